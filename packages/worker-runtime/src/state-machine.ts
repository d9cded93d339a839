/** A state held against a transition table; `transition(to)` rejects any move the table does not list. */
export class StateMachine<S extends string> {
  #state: S;
  readonly #transitions: Readonly<Record<S, readonly S[]>>;
  readonly #onChange: (from: S, to: S) => void;

  constructor(initial: S, transitions: Readonly<Record<S, readonly S[]>>, onChange: (from: S, to: S) => void = () => {}) {
    this.#state = initial;
    this.#transitions = transitions;
    this.#onChange = onChange;
  }

  get state(): S {
    return this.#state;
  }

  /** Moves to `to`; throws on a move the table does not allow. Moving to the current state is a no-op. */
  transition(to: S): void {
    const from = this.#state;
    if (from === to) return;
    if (!this.#transitions[from].includes(to)) {
      throw new Error(`illegal state transition ${from} -> ${to}`);
    }
    this.#state = to;
    this.#onChange(from, to);
  }

  is(...states: readonly S[]): boolean {
    return states.includes(this.#state);
  }
}
