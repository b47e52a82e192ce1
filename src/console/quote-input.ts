/** The longest piece of user input an error message repeats back. */
const SHOWN = 60

const ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/** Control characters as escapes (`\n`, `\u001b`), so what is shown stays on its line. */
function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (char) => ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * User input quoted for a one-line error message: control characters escaped (a name with a
 * newline must not split the line, an escape sequence must not repaint the terminal) and
 * anything long cut short with its length, so a 300-character name does not drown the reason
 * it was refused.
 *
 * ```ts
 * quoteInput('Order\nShipped') // "Order\nShipped"
 * quoteInput('A'.repeat(300)) // "AAAA…AAA…" (300 characters)
 * ```
 */
export function quoteInput(input: string): string {
  const characters = [...input]
  if (characters.length <= SHOWN) return `"${escapeControls(input)}"`
  return `"${escapeControls(characters.slice(0, SHOWN).join(''))}…" (${characters.length} characters)`
}

/** Any message made one line: control characters (line breaks included) become escapes. */
export function oneLine(message: string): string {
  return escapeControls(message.trim())
}
