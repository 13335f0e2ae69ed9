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

#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "pgtime.h"
#include "utils/datetime.h"

/*
 * How one column's value is written.  The log stores JSON text (cheap to
 * write: no jsonb tree, no key sorting) and the audit_log view casts it to
 * jsonb when read, so a value only has to be valid JSON with the meaning
 * to_jsonb() gives it.
 */
typedef enum AuditColKind
{
	COL_INTEGER,				/* int2, int4, int8: digits */
	COL_NUMBER,					/* numeric, float: digits, or a string for NaN/Infinity */
	COL_BOOL,
	COL_TEXT,					/* text, varchar: an escaped string */
	COL_DATETIME,				/* date, timestamp, timestamptz: ISO 8601, as to_jsonb */
	COL_JSON,					/* json, jsonb: their own text */
	COL_STRING,					/* other built-in scalars: output function, escaped */
	COL_TO_JSON					/* arrays, composites, user types: to_json() */
} AuditColKind;

typedef struct AuditCol
{
	AttrNumber	attnum;
	AuditColKind kind;
	Oid			typid;			/* base type */
	bool		byval;			/* of the column's own type, for comparing values */
	int16		len;
	char	   *key;			/* "name": */
	/* COL_DATETIME: the last value written, its text, and the time zone it is in */
	Datum		last_value;
	pg_tz	   *last_tz;
	char		last_text[MAXDATELEN + 1];
	FmgrInfo	fn;				/* output function, or to_json */
} AuditCol;

/* A table's columns as the log shows them (kept across statements: see below). */
typedef struct AuditShape
{
	int			ncols;
	AuditCol   *cols;			/* included columns */
	int			nkeys;
	AuditCol  **keys;			/* included primary key columns */
} AuditShape;

/* The table the audit log is written to (the audit_log view reads it). */
#define SG_AUDIT_BATCH		"audit_batch"

/* audit.c */
extern void sg_audit_log_marker(Oid relid, const char *op, const char *new_json);

/* audit_json.c */
extern AuditShape *sg_audit_shape(Relation rel, Trigger *trigger);
extern void sg_audit_append_object(StringInfo buf, AuditCol **cols, AuditCol *all, int n,
								   TupleTableSlot *slot);
extern bool sg_audit_append_changes(StringInfo olds, StringInfo news, AuditShape *shape,
									TupleTableSlot *oslot, TupleTableSlot *nslot);

/* audit_admin.c */
extern void sg_check_trigger_target(Oid relid, const char *what);
extern void sg_refuse_citus_table(Oid relid, const char *what);
extern void sg_check_table_owner(Oid relid);

#endif							/* SCHEMAGUARD_AUDIT_H */
