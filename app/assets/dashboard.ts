/**
 * The dashboard's live side, bundled by `npm run build` into app/public/build/dashboard.js:
 * Laravel Echo over socket.io (served by Herald, no CDN) for the event feed, the jobs and new
 * orders, and fetch() with the CSRF token for the order form and the Retry buttons.
 */
import Echo from 'laravel-echo'
import { io } from 'socket.io-client'

interface JobMessage {
  readonly id: string
  readonly queue: string
  readonly name: string
  readonly attempt: number
  readonly startedAt: string
  readonly status?: 'DONE' | 'RELEASED' | 'FAIL'
  readonly ms?: number
  readonly error?: string
}

interface OrderPlacedMessage {
  readonly orderId: number
  readonly email: string
  readonly items: { sku: string; quantity: number }[]
  readonly total: number
}

const productNames = new Map(
  (JSON.parse(document.getElementById('products')?.textContent ?? '[]') as { sku: string; name: string }[]).map((product) => [product.sku, product.name]),
)
const csrfToken = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? ''
// Who this page's socket is, for its private channels (the dashboard, the customer's orders).
const broadcastToken = document.querySelector<HTMLMetaElement>('meta[name="broadcast-token"]')?.content ?? ''

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value)
  node.append(...children)
  return node
}

function time(iso: string): string {
  return new Date(iso).toISOString().slice(11, 19)
}

function prepend(list: HTMLElement, item: HTMLElement, keep = 50): void {
  list.querySelector(':scope > .empty')?.remove()
  list.prepend(item)
  while (list.children.length > keep) list.lastElementChild?.remove()
}

const echo = new Echo<'socket.io'>({
  broadcaster: 'socket.io',
  client: io,
  host: window.location.origin,
  transports: ['websocket'],
  namespace: false,
  auth: { headers: { Authorization: `Bearer ${broadcastToken}` } },
})

function connection(state: 'live' | 'down'): void {
  const pill = document.getElementById('connection')!
  pill.dataset.state = state
  pill.className = `pill pill-${state}`
  pill.textContent = state === 'live' ? 'live' : 'offline'
}
const socket = echo.connector.socket
socket.on('connect', () => connection('live'))
socket.on('disconnect', () => connection('down'))

function socketHeaders(): Record<string, string> {
  const id = echo.socketId()
  return id ? { 'X-Socket-ID': id } : {}
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-TOKEN': csrfToken, ...socketHeaders() },
    body: JSON.stringify(body),
  })
}

// The event feed: every event any process dispatches, redacted, on the operators' private channel.
const feed = document.getElementById('feed')!
echo.private('dashboard').listen('.event.dispatched', (message: { name: string; at: string; payload: unknown }) => {
  const item = el(
    'li',
    { 'data-event': message.name },
    el('div', { class: 'feed-head' }, el('span', { class: 'feed-name' }, message.name), el('span', { class: 'muted' }, time(message.at))),
    el('pre', {}, JSON.stringify(message.payload)),
  )
  prepend(feed, item)
})

// A refused subscription would otherwise be an empty feed that never fills: say why instead.
socket.on('subscription_error', (channel: string, status: number) => {
  if (channel !== 'private-dashboard') return
  const notice = el('li', { class: 'empty', 'data-refused': String(status) }, `The live feed is for operators, and this page's socket was refused (${status}). With several web servers, give them all the same APP_KEY.`)
  feed.replaceChildren(notice)
})

// Jobs as workers take and finish them.
const jobs = document.getElementById('jobs')!
function jobItem(job: JobMessage): HTMLElement {
  const key = `${job.id}:${job.attempt}`
  let item = jobs.querySelector<HTMLElement>(`[data-job="${CSS.escape(key)}"]`)
  if (item === null) {
    item = el('li', { 'data-job': key, 'data-name': job.name })
    prepend(jobs, item)
  }
  return item
}
function renderJob(job: JobMessage): void {
  const item = jobItem(job)
  const status = job.status ?? 'RUNNING'
  item.dataset.status = status
  const meta = `#${job.id} · ${job.queue} · attempt ${job.attempt}${job.ms === undefined ? '' : ` · ${job.ms.toFixed(0)} ms`}`
  item.replaceChildren(
    el('div', { class: 'job-head' }, el('span', { class: 'job-name' }, job.name), el('span', { class: `badge badge-${status}` }, status === 'FAIL' ? 'failed' : status.toLowerCase())),
    el('div', { class: 'job-meta' }, meta),
    ...(job.error ? [el('div', { class: 'failed-error' }, job.error)] : []),
  )
}
echo
  .private('dashboard')
  .listen('.job.processing', renderJob)
  .listen('.job.processed', (job: JobMessage) => {
    renderJob(job)
    if (job.status === 'FAIL') void refreshFailedJobs()
    if (job.name === 'NotifyWarehouse') void refreshFromServer('orders-body')
    refreshBatchesSoon()
  })

// Orders, as OrderPlaced is broadcast on `orders`.
const ordersBody = document.getElementById('orders-body')!
echo.channel('orders').listen('.OrderPlaced', (order: OrderPlacedMessage) => {
  if (ordersBody.querySelector(`[data-order="${order.orderId}"]`)) return
  ordersBody.querySelector('.empty-row')?.remove()
  const line = order.items[0]
  const row = el(
    'tr',
    { 'data-order': String(order.orderId), class: 'fresh' },
    el('td', {}, String(order.orderId)),
    el('td', {}, order.email),
    el('td', {}, productNames.get(line?.sku ?? '') ?? line?.sku ?? ''),
    el('td', { class: 'num' }, String(line?.quantity ?? '')),
    el('td', { class: 'num' }, (order.total / 100).toFixed(2)),
    el('td', {}, el('span', { class: 'badge badge-pending' }, 'pending')),
    el('td', { class: 'muted' }, time(new Date().toISOString())),
  )
  ordersBody.prepend(row)
})
// The customer's own channel: only this user may listen.
const result = document.getElementById('order-result')!
echo.private('orders.1').listen('.OrderPlaced', (order: OrderPlacedMessage) => {
  result.hidden = false
  result.textContent = `Order #${order.orderId} placed: confirmation and warehouse jobs are queued.`
})

/**
 * Replaces parts of the page with the server's rendering of them: what changed in a worker
 * (an order's warehouse state, the failed jobs) is read again rather than guessed.
 */
async function refreshFromServer(...ids: string[]): Promise<void> {
  const html = await (await fetch('/', { headers: { Accept: 'text/html' } })).text()
  const page = new DOMParser().parseFromString(html, 'text/html')
  for (const id of ids) {
    const fresh = page.getElementById(id)
    if (fresh) document.getElementById(id)?.replaceChildren(...fresh.children)
  }
}

// Failed jobs, with Retry buttons that post with the CSRF token.
const failedList = document.getElementById('failed-jobs-list')!
const refreshFailedJobs = () => refreshFromServer('failed-jobs-list')
failedList.addEventListener('submit', (submitted) => {
  const form = submitted.target as HTMLFormElement
  if (!form.classList.contains('retry-form')) return
  submitted.preventDefault()
  const button = form.querySelector('button')!
  button.disabled = true
  button.textContent = 'Retrying…'
  void post(form.action, {}).then(() => refreshFailedJobs())
})

// Batches: their progress bars are read again after jobs finish (at most every 250 ms).
let batchesRefresh: ReturnType<typeof setTimeout> | null = null
function refreshBatchesSoon(): void {
  if (batchesRefresh !== null || document.querySelector('#batches-list [data-state="running"]') === null) return
  batchesRefresh = setTimeout(() => {
    batchesRefresh = null
    void refreshFromServer('batches-list')
  }, 250)
}
const batchForm = document.getElementById('start-batch-form') as HTMLFormElement
batchForm.addEventListener('submit', (submitted) => {
  submitted.preventDefault()
  const button = batchForm.querySelector('button')!
  button.disabled = true
  void post('/batches', {})
    .then(() => refreshFromServer('batches-list'))
    .finally(() => {
      button.disabled = false
    })
})

// The order form: JSON with the CSRF token; field errors shown in place.
const form = document.getElementById('order-form') as HTMLFormElement
form.addEventListener('submit', (submitted) => {
  submitted.preventDefault()
  const data = new FormData(form)
  const body = {
    email: String(data.get('email') ?? ''),
    sku: String(data.get('sku') ?? ''),
    quantity: String(data.get('quantity') ?? ''),
    fail_warehouse: data.get('fail_warehouse') === '1',
  }
  for (const node of form.querySelectorAll<HTMLElement>('[data-error-for]')) node.textContent = ''
  for (const node of form.querySelectorAll('.invalid')) node.classList.remove('invalid')
  form.querySelector('#order-placed')?.remove()
  const button = form.querySelector<HTMLButtonElement>('button[type=submit]')!
  button.disabled = true
  void post('/orders', body)
    .then(async (response) => {
      const answer = (await response.json()) as { order?: { id: number }; errors?: Record<string, string[]>; message?: string }
      if (response.status === 201 && answer.order) {
        result.hidden = false
        result.className = 'notice success'
        result.textContent = `Order #${answer.order.id} placed.`
        ;(form.querySelector('#fail_warehouse') as HTMLInputElement).checked = false
        return
      }
      for (const [field, messages] of Object.entries(answer.errors ?? {})) {
        const slot = form.querySelector<HTMLElement>(`[data-error-for="${field}"]`)
        if (slot) slot.textContent = messages.join(' ')
        form.querySelector(`[name="${field}"]`)?.classList.add('invalid')
      }
      if (!answer.errors) {
        result.hidden = false
        result.className = 'notice error'
        result.textContent = answer.message ?? `The server answered ${response.status}.`
      }
    })
    .finally(() => {
      button.disabled = false
    })
})
