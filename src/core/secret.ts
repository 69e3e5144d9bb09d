// A secret value that prints as [redacted] in logs, JSON and util.inspect, so a config object can
// be logged whole without leaking one. Only reveal() gives the value.

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return '[redacted]';
  }
  toString(): string {
    return '[redacted]';
  }
  // util.inspect's hook, by its registered symbol (no Node import: core stays pure).
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[redacted]';
  }
}
