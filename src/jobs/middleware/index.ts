// Job middleware (issue 16). WithoutOverlapping lives in without-overlapping.ts (H3).
export { Limit } from './limit.ts'
export { RateLimiter } from './rate-limiter.ts'
export { RateLimited } from './rate-limited.ts'
export { ThrottlesExceptions } from './throttles-exceptions.ts'
export { Skip } from './skip.ts'
