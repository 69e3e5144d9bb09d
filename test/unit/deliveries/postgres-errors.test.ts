// Which PostgreSQL failures are worth trying again (the delivery log keeps its records and the
// recorder writes them later) and which are refusals of the data or the SQL (never retried), and
// that a description never carries the connection string.
import { describe, expect, it } from 'vitest';
import { describePostgresError, isDataError, isUnreachable } from '../../../src/deliveries/postgres-errors.js';

const server = (code: string, message = 'from the server') => Object.assign(new Error(message), { code });

describe('PostgreSQL failures', () => {
  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['a server shutting down', server('57P01', 'terminating connection due to administrator command')],
    ['a server starting up', server('57P03', 'the database system is starting up')],
    ['a statement timeout', server('57014', 'canceling statement due to statement timeout')],
    ['too many connections', server('53300')],
    ['a rotated password', server('28P01')],
    ['a serialization failure', server('40001')],
    ['a deadlock', server('40P01')],
    ['an I/O error on the server', server('58030')],
    ['a missing database', server('3D000')],
    ['a connection that ended', new Error('Connection terminated unexpectedly')],
    ['a closed client', new Error('Client was closed and is not queryable')],
    [
      'a client broken by an earlier error',
      new Error('Client has encountered a connection error and is not queryable'),
    ],
    ['a pool that could not connect in time', new Error('timeout exceeded when trying to connect')],
    [
      'every address refused',
      new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), new Error('y')], 'all failed'),
    ],
  ])('tries %s again', (_, error) => {
    expect(isUnreachable(error)).toBe(true);
    expect(isDataError(error)).toBe(false);
  });

  it.each([
    ['a value out of range', server('22003'), true],
    ['a unique violation', server('23505'), true],
    ['a syntax error', server('42601'), false],
    ['a missing column', server('42703'), false],
    ['a permission refused', server('42501'), false],
    ['an unknown error', new Error('something else'), false],
  ])('does not try %s again', (_, error, data) => {
    expect(isUnreachable(error)).toBe(false);
    expect(isDataError(error)).toBe(data);
  });

  it('describes a failure by its code and message, never a connection string', () => {
    expect(describePostgresError(server('57P01', 'terminating connection'))).toBe('57P01 terminating connection');
    expect(
      describePostgresError(
        Object.assign(new Error('connect ECONNREFUSED postgresql://u:secret@db:5432/x'), { code: 'ECONNREFUSED' }),
      ),
    ).toBe('ECONNREFUSED');
  });
});
