import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import Handlebars from 'handlebars'

export interface ViewOptions {
  /** The views folder (app/views): templates, `layouts/` and `partials/`. */
  readonly root: string
  /** Keep compiled templates (production); otherwise every render reads the files again. */
  readonly cache: boolean
  /** The layout of templates that name none (`layouts/<name>.hbs`); false for none. Default `app` when layouts/app.hbs exists. */
  readonly layout?: string | false
}

/** What a template sees: the data given to `render`, with `layout` choosing the layout. */
export interface ViewData {
  /** `layouts/<name>.hbs` to wrap the page in, or false for none. */
  readonly layout?: string | false
  readonly [key: string]: unknown
}

type Template = Handlebars.TemplateDelegate<Record<string, unknown>>

/** `{{json value}}`: JSON safe to put inside a `<script>` element. */
function json(value: unknown): Handlebars.SafeString {
  const text = JSON.stringify(value ?? null).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
  return new Handlebars.SafeString(text)
}

/**
 * Handlebars views as Laravel's Blade folders lay them out: `dashboard.hbs` renders inside
 * `layouts/app.hbs` (its `{{{body}}}`), `{{> order-form}}` is `partials/order-form.hbs`.
 * Helpers: `json` (for a `<script>`), `eq`, `time` (HH:MM:SS of a date or ISO string).
 *
 * ```ts
 * const views = new ViewFactory({ root: app.path('app/views'), cache: false })
 * const html = await views.render('dashboard', { title: 'Orders' })
 * ```
 */
export class ViewFactory {
  private readonly handlebars = Handlebars.create()
  private readonly templates = new Map<string, Template>()
  private partialsLoaded = false
  private cachedLayout: string | false | undefined

  constructor(private readonly options: ViewOptions) {
    this.handlebars.registerHelper('json', json)
    this.handlebars.registerHelper('eq', (a: unknown, b: unknown) => a === b)
    this.handlebars.registerHelper('time', (value: unknown) => {
      const date = value instanceof Date ? value : new Date(String(value))
      return Number.isNaN(date.getTime()) ? '' : date.toISOString().slice(11, 19)
    })
  }

  /** Adds a helper templates can call. */
  helper(name: string, helper: Handlebars.HelperDelegate): this {
    this.handlebars.registerHelper(name, helper)
    return this
  }

  /** Renders `name` (a path under the views folder without `.hbs`) inside its layout. */
  render(name: string, data: ViewData = {}): string {
    this.loadPartials()
    const { layout = this.defaultLayout(), ...locals } = data
    const body = this.template(name)(locals)
    if (layout === false) return body
    return this.template(`layouts/${layout}`)({ ...locals, body })
  }

  /** Renders the file express resolved (`response.render`). */
  renderFile(file: string, data: ViewData): string {
    return this.render(relative(this.options.root, file).replace(/\.hbs$/, '').split(sep).join('/'), data)
  }

  /** The configured layout, else `app` when layouts/app.hbs exists (looked up once when caching). */
  private defaultLayout(): string | false {
    if (this.options.layout !== undefined) return this.options.layout
    if (this.cachedLayout !== undefined) return this.cachedLayout
    const layout = existsSync(join(this.options.root, 'layouts', 'app.hbs')) ? 'app' : false
    if (this.options.cache) this.cachedLayout = layout
    return layout
  }

  private template(name: string): Template {
    const cached = this.templates.get(name)
    if (cached !== undefined) return cached
    const file = join(this.options.root, `${name}.hbs`)
    if (!existsSync(file)) throw new Error(`View "${name}" not found: there is no ${file}.`)
    const template = this.handlebars.compile<Record<string, unknown>>(readFileSync(file, 'utf8'), { strict: false })
    if (this.options.cache) this.templates.set(name, template)
    return template
  }

  private loadPartials(): void {
    if (this.partialsLoaded && this.options.cache) return
    const dir = join(this.options.root, 'partials')
    if (existsSync(dir)) {
      for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile() || !entry.name.endsWith('.hbs')) continue
        const file = join(entry.parentPath, entry.name)
        const name = relative(dir, file).replace(/\.hbs$/, '').split(sep).join('/')
        this.handlebars.registerPartial(name, readFileSync(file, 'utf8'))
      }
    }
    this.partialsLoaded = true
  }
}
