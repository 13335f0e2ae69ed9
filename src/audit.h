/*-------------------------------------------------------------------------
 *
 * audit.h
 *		What the audit and timestamps triggers share: the checks of a
 *		table that enable_audit() or enable_timestamps() is given.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SCHEMAGUARD_AUDIT_H
#define SCHEMAGUARD_AUDIT_H

extern void sg_check_trigger_target(Oid relid, const char *what);
extern void sg_refuse_citus_table(Oid relid, const char *what);
extern void sg_check_table_owner(Oid relid);

#endif							/* SCHEMAGUARD_AUDIT_H */
