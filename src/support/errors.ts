// The one base class of every error this project raises for its users: bad input, a database it cannot
// reach or start, a batch it refused. Its message already says what is wrong and what to do, so a
// command prints it as one line; anything else is a bug and is printed with its stack.

export class PulseAnalyticsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // The subclass's own name ("InvalidInputError", …), without each one setting it by hand.
    this.name = new.target.name;
  }
}
