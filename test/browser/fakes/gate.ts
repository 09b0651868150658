/** A promise a test opens (or fails) when it wants: holds a fake's step so a state can be looked at. */
export class Gate {
  readonly promise: Promise<void>;
  open!: () => void;
  fail!: (error: unknown) => void;
  entered = false;

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.open = resolve;
      this.fail = reject;
    });
  }
}

/** Waits on the gate, if any; marks that the step was reached. */
export async function pass(gate: Gate | undefined): Promise<void> {
  if (!gate) return;
  gate.entered = true;
  await gate.promise;
}
