/** The demo's outgoing mail, kept in memory: a stand-in for a real mailer. */
export interface Mail {
  readonly to: string
  readonly subject: string
}

export const mailbox: Mail[] = []
