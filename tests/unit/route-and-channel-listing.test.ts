import createExpress from 'express'
import { describe, expect, it } from 'vitest'
import { ChannelRegistry } from '../../src/broadcasting/channel-registry.ts'
import { listRoutes, named } from '../../src/http/route-table.ts'

describe('ChannelRegistry.channels()', () => {
  it('lists each pattern with its parameters and the file and line that registered it', () => {
    const registry = new ChannelRegistry()
    registry.channel('orders.{userId}', (user, userId) => user.id === Number(userId))
    registry.channel('chat.{roomId}.{threadId}', () => true)
    const [orders, chat] = registry.channels()
    expect(orders).toEqual({ pattern: 'orders.{userId}', parameters: ['userId'], source: expect.stringMatching(/tests\/unit\/route-and-channel-listing\.test\.ts:9$/) })
    expect(chat!.parameters).toEqual(['roomId', 'threadId'])
  })
})

describe('listRoutes', () => {
  it('lists routes of mounted routers with their prefix, middleware names and handler', () => {
    const app = createExpress()
    const api = createExpress.Router()
    function storeOrder() {}
    api.post('/orders', named('json', (_request, _response, next) => next()), storeOrder)
    app.use('/api', api)
    app.get('/', (_request, response) => response.send('hi'))
    app.all('/any', function anything() {})
    const routes = listRoutes(app).map(({ fn: _fn, ...route }) => route)
    expect(routes).toEqual([
      { methods: ['POST'], path: '/api/orders', middleware: ['json'], handler: 'storeOrder' },
      { methods: ['GET'], path: '/', middleware: [], handler: 'closure' },
      { methods: ['ANY'], path: '/any', middleware: [], handler: 'anything' },
    ])
  })
})
