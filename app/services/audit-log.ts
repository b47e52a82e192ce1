/** Every event the audit subscriber saw, in order. */
export interface AuditEntry {
  readonly event: string
  readonly at: Date
}

export const auditLog: AuditEntry[] = []
