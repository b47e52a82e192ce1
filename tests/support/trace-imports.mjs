// Loaded with `node --import`: appends every module URL the process resolves to the file named
// by HERALD_TRACE_IMPORTS, so a test can check what a command loaded.
import { register } from 'node:module'

const hook = `
import { appendFileSync } from 'node:fs'
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  appendFileSync(process.env.HERALD_TRACE_IMPORTS, result.url + '\\n')
  return result
}
`
register(`data:text/javascript,${encodeURIComponent(hook)}`)
