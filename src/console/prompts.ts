import { UserError } from '../foundation/errors.ts'

/** Answers given ahead of time, by question text: tests and `runCommand(..., { answers })`. */
export type PromptAnswers = Readonly<Record<string, string | boolean>>

/**
 * Prompts go through @inquirer/prompts, loaded on the first question. When stdin is not a
 * terminal (a pipe, CI, cron) nobody can answer: the question's default is taken, and without
 * one the command stops with one line saying so.
 */
function interactive(): boolean {
  return process.stdin.isTTY === true
}

function unanswerable(question: string): never {
  throw new UserError(`Cannot ask "${question}": stdin is not a terminal and the question has no default; pass the value as an argument or option.`)
}

function given(question: string, answers: PromptAnswers | undefined): string | boolean | undefined {
  return answers !== undefined && Object.hasOwn(answers, question) ? answers[question] : undefined
}

export async function confirm(question: string, fallback: boolean | undefined, answers?: PromptAnswers): Promise<boolean> {
  const answer = given(question, answers)
  if (answer !== undefined) return answer === true || answer === 'yes' || answer === 'y' || answer === 'true'
  if (!interactive()) return fallback ?? unanswerable(question)
  const { confirm: prompt } = await import('@inquirer/prompts')
  return prompt({ message: question, ...(fallback === undefined ? {} : { default: fallback }) })
}

export async function ask(question: string, fallback: string | undefined, answers?: PromptAnswers): Promise<string> {
  const answer = given(question, answers)
  if (answer !== undefined) return String(answer)
  if (!interactive()) return fallback ?? unanswerable(question)
  const { input } = await import('@inquirer/prompts')
  return input({ message: question, ...(fallback === undefined ? {} : { default: fallback }) })
}

export async function choice<C extends string>(question: string, choices: readonly C[], fallback: C | undefined, answers?: PromptAnswers): Promise<C> {
  const answer = given(question, answers)
  if (answer !== undefined) {
    const picked = choices.find((item) => item === String(answer))
    if (picked === undefined) throw new UserError(`"${String(answer)}" is not one of ${choices.join(', ')} (for "${question}").`)
    return picked
  }
  if (!interactive()) return fallback ?? unanswerable(question)
  const { select } = await import('@inquirer/prompts')
  return select({ message: question, choices: choices.map((value) => ({ value })), ...(fallback === undefined ? {} : { default: fallback }) })
}
