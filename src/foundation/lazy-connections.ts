/**
 * Named connections opened on first use and kept: what the database, queue and broadcast
 * managers share. A connection that failed to open is not kept, so the next use tries again
 * and closing does not fail on it (hiding the first error).
 */
export class LazyConnections<T> {
  private readonly opened = new Map<string, Promise<T>>()

  constructor(private readonly open: (name: string) => Promise<T>) {}

  get(name: string): Promise<T> {
    let connection = this.opened.get(name)
    if (connection === undefined) {
      connection = this.open(name)
      this.opened.set(name, connection)
      connection.catch(() => this.opened.delete(name))
    }
    return connection
  }

  /**
   * Closes every connection opened so far with `close`, each on its own, and forgets them;
   * `extra` steps run alongside. Rejects with one AggregateError saying `what` failed.
   */
  async closeAll(close: (connection: T) => Promise<void>, what: string, extra: Array<() => Promise<void>> = []): Promise<void> {
    const opened = [...this.opened.values()]
    this.opened.clear()
    const results = await Promise.allSettled([...opened.map(async (connection) => close(await connection)), ...extra.map((step) => step())])
    const errors = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []))
    if (errors.length > 0) throw new AggregateError(errors, `Closing the ${what} failed`)
  }
}
