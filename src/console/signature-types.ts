/**
 * The signature grammar of {@link parseSignature}, read by the compiler: a command's arguments
 * and options are typed from its signature string alone, so they are declared once.
 *
 * ```ts
 * type A = ArgumentsOf<'digest:send {user} {period?} {--dry-run} {--limit=10}'>
 * //   { user: string; period: string | undefined }
 * type O = OptionsOf<'digest:send {user} {period?} {--dry-run} {--limit=10}'>
 * //   { 'dry-run': boolean; limit: string }
 * ```
 */
type Trim<S extends string> = S extends ` ${infer R}` ? Trim<R> : S extends `${infer R} ` ? Trim<R> : S

/** The text before ` : description`. */
type TokenHead<T extends string> = T extends `${infer H}:${string}` ? Trim<H> : Trim<T>

/** Each `{...}` of a signature, without its description. */
export type SignatureTokens<S extends string> = S extends `${string}{${infer T}}${infer Rest}` ? TokenHead<T> | SignatureTokens<Rest> : never

type ArgumentEntry<T extends string> = T extends `--${string}`
  ? never
  : T extends `${infer N}?*`
    ? [N, string[]]
    : T extends `${infer N}*`
      ? [N, string[]]
      : T extends `${infer N}?`
        ? [N, string | undefined]
        : T extends `${infer N}=${string}`
          ? [N, string]
          : [T, string]

type OptionEntry<T extends string> = T extends `--${infer O}`
  ? O extends `${infer N}=*`
    ? [N, string[]]
    : O extends `${infer N}=`
      ? [N, string | undefined]
      : O extends `${infer N}=${string}`
        ? [N, string]
        : [O, boolean]
  : never

type Entries<E extends [string, unknown]> = { [K in E as K[0]]: K[1] }

/** A signature's arguments by name; a signature the compiler cannot see (`string`) gives `Record<string, unknown>`. */
export type ArgumentsOf<S extends string> = string extends S ? Record<string, unknown> : Entries<ArgumentEntry<SignatureTokens<S>>>

/** A signature's options by name (without `--`). */
export type OptionsOf<S extends string> = string extends S ? Record<string, unknown> : Entries<OptionEntry<SignatureTokens<S>>>
