// The official @supabase/realtime-js client against localbase's /realtime/v1.
// Run by localbase/tests/api/realtime.rs (`official_realtime_js_client`), which serves a
// localbase on a fresh database and passes LOCALBASE_URL, ANON_KEY, SERVICE_KEY, ADMIN_TOKEN
// and USERS (a JSON array of {id, token}). Rows are written through /rest/v1 as the users
// themselves, so RLS applies to the writes as well as to what each subscriber hears.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { RealtimeClient } from '@supabase/realtime-js'

const base = process.env.LOCALBASE_URL
const anon = process.env.ANON_KEY
const service = process.env.SERVICE_KEY
const adminToken = process.env.ADMIN_TOKEN
const users = JSON.parse(process.env.USERS ?? '[]')
const clients = []

after(() => clients.forEach((c) => c.disconnect()))

async function connect(token) {
  const c = new RealtimeClient(`${base.replace(/^http/, 'ws')}/realtime/v1`, {
    params: { apikey: anon },
  })
  clients.push(c)
  await c.setAuth(token)
  return c
}

// Subscribes to tasks changes; returns a queue whose next() resolves with the next change.
async function listen(client, topic, filter) {
  const queue = []
  const waiting = []
  const channel = client.channel(topic).on(
    'postgres_changes',
    { event: '*', schema: 'public', table: 'tasks', filter },
    (change) => {
      const w = waiting.shift()
      if (w) w(change)
      else queue.push(change)
    }
  )
  await new Promise((resolve, reject) => {
    channel.subscribe((status, err) => {
      if (status === 'SUBSCRIBED') resolve()
      else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') reject(err ?? new Error(status))
    })
  })
  return {
    channel,
    received: queue,
    next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiting.push(r))),
  }
}

async function rest(method, path, token, body) {
  const res = await fetch(`${base}/rest/v1/${path}`, {
    method,
    headers: {
      apikey: anon,
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      prefer: 'return=representation',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`)
  return text ? JSON.parse(text) : null
}

const insertTask = async (token, title) =>
  (await rest('POST', 'tasks', token, { title, type: 'data_export', parameters: { dataset: 'tasks', format: 'csv' } }))[0]

test('INSERT, UPDATE and DELETE reach the owner and admins, never another user', async () => {
  const [alice, bob] = users
  const filter = 'status=eq.pending'
  const a = await listen(await connect(alice.token), 'tasks-a', filter)
  const b = await listen(await connect(bob.token), 'tasks-b', filter)
  const admin = await listen(await connect(adminToken), 'tasks-admin', filter)

  const row = await insertTask(alice.token, 'from realtime-js')
  let change = await a.next()
  assert.equal(change.eventType, 'INSERT')
  assert.equal(change.schema, 'public')
  assert.equal(change.table, 'tasks')
  assert.equal(change.new.id, row.id)
  assert.equal(change.new.title, 'from realtime-js')
  assert.deepEqual(change.new.parameters, { dataset: 'tasks', format: 'csv' })
  assert.equal((await admin.next()).new.id, row.id)

  await rest('PATCH', `tasks?id=eq.${row.id}`, service, { title: 'renamed' })
  change = await a.next()
  assert.equal(change.eventType, 'UPDATE')
  assert.equal(change.new.title, 'renamed')
  assert.equal(change.old.title, 'from realtime-js')
  assert.equal((await admin.next()).eventType, 'UPDATE')

  await rest('DELETE', `tasks?id=eq.${row.id}`, service)
  change = await a.next()
  assert.equal(change.eventType, 'DELETE')
  assert.deepEqual(change.old, { id: row.id })
  assert.equal((await admin.next()).eventType, 'DELETE')

  // Bob heard at most the key of Alice's delete; his first row event is his own row.
  const own = await insertTask(bob.token, 'bob via realtime-js')
  let first = await b.next()
  while (first.eventType === 'DELETE') {
    assert.deepEqual(Object.keys(first.old), ['id'], 'a DELETE carries only the key')
    first = await b.next()
  }
  assert.equal(first.new.id, own.id)
  assert.equal((await admin.next()).new.id, own.id)
})

test('100 subscribers on one table each get exactly their own rows', async () => {
  const many = users.slice(2, 102)
  assert.equal(many.length, 100)
  const filter = 'status=eq.pending'
  const subs = await Promise.all(many.map(async (u, i) => listen(await connect(u.token), `many-${i}`, filter)))
  const first = await Promise.all(many.map((u) => insertTask(u.token, `one of ${u.id}`)))
  const second = await Promise.all(many.map((u) => insertTask(u.token, `two of ${u.id}`)))
  await Promise.all(
    subs.map(async (s, i) => {
      const one = await s.next()
      const two = await s.next()
      assert.equal(one.new.id, first[i].id)
      assert.equal(two.new.id, second[i].id)
      assert.equal(s.received.length, 0, 'nothing but their own two rows')
    })
  )
})
