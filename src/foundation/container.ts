/**
 * What the container holds, by key. Each part of the framework adds its own binding by
 * augmenting this interface next to the provider that binds it, so `make('events')` is typed
 * without the container knowing about events.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ContainerBindings {}

type Key = keyof ContainerBindings & string

/** A small typed service container: singletons made on first use. */
export class Container {
  private readonly factories = new Map<string, () => unknown>()
  private readonly instances = new Map<string, unknown>()

  /** Binds `key` to a factory whose result is made once, on first `make`. */
  singleton<K extends Key>(key: K, factory: () => ContainerBindings[K]): void {
    this.factories.set(key, factory)
    this.instances.delete(key)
  }

  /** Binds `key` to a ready instance. */
  instance<K extends Key>(key: K, value: ContainerBindings[K]): void {
    this.instances.set(key, value)
  }

  /** True once `key`'s instance exists (made, or bound ready). */
  resolved(key: string): boolean {
    return this.instances.has(key)
  }

  bound(key: string): boolean {
    return this.instances.has(key) || this.factories.has(key)
  }

  make<K extends Key>(key: K): ContainerBindings[K] {
    if (this.instances.has(key)) return this.instances.get(key) as ContainerBindings[K]
    const factory = this.factories.get(key)
    if (!factory) throw new Error(`Nothing is bound to "${key}" in the container: is its service provider registered?`)
    const value = factory()
    this.instances.set(key, value)
    return value as ContainerBindings[K]
  }
}
