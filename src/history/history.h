/*-------------------------------------------------------------------------
 *
 * history.h
 *		The migration history tables (history.c), as migrations.c reads and
 *		writes them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SG_HISTORY_H
#define SG_HISTORY_H

#include "schemaguard.h"

#include "lib/stringinfo.h"

/* migration_history, as this library writes it (see the install script) */
enum
{
	H_ID, H_VERSION, H_NAME, H_CHECKSUM, H_STATUS, H_TRANSACTIONAL, H_APPLIED_BY,
	H_APPLICATION_NAME, H_HOLDER_PID, H_HOLDER_START, H_STARTED_AT, H_FINISHED_AT,
	H_STATEMENT_COUNT, H_LAST_STATEMENT, H_PREV_CHECKSUM, H_CHAIN, H_NATTS
};
extern const Oid sg_history_types[H_NATTS];

/* migration_events */
enum
{
	E_ID, E_MIGRATION_ID, E_VERSION, E_AT, E_EVENT, E_NOTE, E_ACTOR, E_NATTS
};

/* One migration_history row, deformed. */
typedef struct HistRow
{
	Datum		values[H_NATTS];
	bool		nulls[H_NATTS];
	ItemPointerData tid;		/* where it is; invalid for a row not written yet */
} HistRow;

extern Relation sg_history_open(void);
extern void sg_history_copy_texts(HistRow *row, MemoryContext cxt);
extern char *sg_history_text(const HistRow *row, int att);
extern bool sg_history_by_version(Relation rel, const char *version, HistRow *row);
extern bool sg_history_by_id(Relation rel, int64 id, HistRow *row);
extern bool sg_history_running(Relation rel, HistRow *row);
extern bool sg_history_last_applied(Relation rel, int64 skip_id, HistRow *row);
extern void sg_history_log_event(int64 mid, const char *version, const char *event, const char *note);
extern void sg_history_write(Relation rel, HistRow *row);
extern char *sg_history_chain(const char *prev, const HistRow *row);
extern bool sg_history_session_alive(int pid, TimestampTz started);
extern void sg_history_lock(Oid histrel, TimestampTz deadline);

#endif							/* SG_HISTORY_H */
