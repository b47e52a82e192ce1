import { AssertionError } from 'node:assert'
import { join, sep } from 'node:path'
import { frameworkRoot } from './framework-root.ts'

/**
 * An AssertionError for the fakes, whose stack starts at the test: the framework's own frames
 * (src/ when run from source, dist/ when compiled) and node's internals are dropped.
 */
export function testAssertionError(message: string): AssertionError {
  const error = new AssertionError({ message })
  const stack = error.stack
  if (!stack) return error
  const own = ['src', 'dist'].map((dir) => join(frameworkRoot(), dir) + sep)
  const lines = stack.split('\n')
  const firstFrame = lines.findIndex((line) => line.trimStart().startsWith('at '))
  if (firstFrame < 0) return error
  const frames = lines
    .slice(firstFrame)
    .filter((line) => !own.some((dir) => line.includes(dir)) && !line.includes('node:internal/'))
  error.stack = [...lines.slice(0, firstFrame), ...frames].join('\n')
  return error
}
