import createExpress, { type NextFunction, type Request, type RequestHandler, type Response } from 'express'
import { HttpError } from './http-error.ts'

/**
 * The largest request body read, JSON or form (body-parser's own default, made explicit): a
 * larger one is refused with 413 before it is buffered, from its Content-Length when it has
 * one, else once that many bytes have arrived.
 */
export const BODY_LIMIT = '100kb'
/** The most fields a form body may have (body-parser's default). */
export const FORM_FIELDS_LIMIT = 1000

/** body-parser's errors as one-line HTTP errors that echo nothing of the body back. */
function translate(error: unknown): unknown {
  const type = typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined
  switch (type) {
    case 'entity.too.large':
      return new HttpError(413, `The request body is larger than ${BODY_LIMIT}.`)
    case 'parameters.too.many':
      return new HttpError(413, `The form has more than ${FORM_FIELDS_LIMIT} fields.`)
    case 'entity.parse.failed':
      return new HttpError(400, 'The request body is not valid JSON.')
    default:
      return error
  }
}

function translated(parse: RequestHandler): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    void parse(request, response, (error?: unknown) => (error === undefined || error === null ? next() : next(translate(error))))
  }
}

/** `express.json()` within {@link BODY_LIMIT}: 413 above it, 400 for malformed JSON, as JSON errors. */
export function jsonBody(): RequestHandler {
  return translated(createExpress.json({ limit: BODY_LIMIT }))
}

/** `express.urlencoded()` (flat fields) within {@link BODY_LIMIT} and {@link FORM_FIELDS_LIMIT}. */
export function formBody(): RequestHandler {
  return translated(createExpress.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: FORM_FIELDS_LIMIT }))
}
