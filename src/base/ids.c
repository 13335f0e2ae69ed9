/*-------------------------------------------------------------------------
 *
 * ids.c
 *		Ids for schemaguard's history rows, without touching lastval().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "commands/sequence.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "schemaguard.h"

/*
 * Ids for our own tables (ddl_log, the migration history, audit batches).
 *
 * nextval() would make lastval() return our id: the extension would change
 * what core answers an application that calls lastval() after its own
 * INSERT, with DDL or an audited write in between.  So, when the library is
 * preloaded, ids come from a block reserved in shared memory: one slot per
 * (database, sequence) holds the next id and the end of the reserved
 * block; the block is reserved by setval() on the sequence (WAL-logged,
 * not transactional, and setval() leaves lastval() alone), so after a
 * restart ids continue above every block ever handed out.  Without the
 * shared memory (library not preloaded) nextval() is used, and lastval()
 * can show our ids: docs/rules.md says so.
 */
#define SG_ID_SLOTS		128
#define SG_ID_BLOCK		1000

typedef struct IdSlot
{
	Oid			dbid;
	Oid			seqid;
	int64		next;			/* the next id to hand out */
	int64		limit;			/* first id past the reserved block */
} IdSlot;

typedef struct IdShared
{
	LWLock	   *lock;
	int			nslots;
	IdSlot		slots[SG_ID_SLOTS];
} IdShared;

static IdShared *id_shared = NULL;

void
sg_ids_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(IdShared)));
	RequestNamedLWLockTranche("schemaguard ids", 1);
}

void
sg_ids_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	id_shared = ShmemInitStruct("schemaguard ids", sizeof(IdShared), &found);
	if (!found)
	{
		memset(id_shared, 0, sizeof(IdShared));
		id_shared->lock = &(GetNamedLWLockTranche("schemaguard ids"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* The value nextval() would return next, read as the extension's owner. */
static int64
sequence_next(Oid seqid, int64 step)
{
	Oid			save_userid;
	int			save_sec;
	volatile int64 next = 0;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(sg_extension_owner(), save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		int			spi_level;
		bool		isnull;
		bool		pushed = false;

		/* at PRE_COMMIT (the ddl_log rows are written then) there is none */
		if (!ActiveSnapshotSet())
		{
			PushActiveSnapshot(GetTransactionSnapshot());
			pushed = true;
		}
		spi_level = sg_spi_connect();

		if (SPI_execute(psprintf("SELECT last_value, is_called FROM %s",
								 quote_qualified_identifier(get_namespace_name(get_rel_namespace(seqid)),
															get_rel_name(seqid))),
						true, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not read sequence %u", seqid);
		next = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)))
			next += step;
		sg_spi_finish(spi_level);
		if (pushed)
			PopActiveSnapshot();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_END_TRY();
	return next;
}

/* The slot of (this database, seqid), or NULL; under the lock. */
static IdSlot *
find_slot(Oid seqid)
{
	for (int i = 0; i < id_shared->nslots; i++)
	{
		if (id_shared->slots[i].dbid == MyDatabaseId && id_shared->slots[i].seqid == seqid)
			return &id_shared->slots[i];
	}
	return NULL;
}

/* Reserve ids up to limit - step: setval(seq, limit - step), as the extension's owner. */
static void
sequence_reserve(Oid seqid, int64 last)
{
	Oid			save_userid;
	int			save_sec;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(sg_extension_owner(), save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		(void) DirectFunctionCall2(setval_oid, ObjectIdGetDatum(seqid), Int64GetDatum(last));
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_END_TRY();
}

/*
 * The next id of sequence seqid (which steps by step), without touching
 * lastval(), from a block of ids reserved in shared memory.  Only when the
 * block is used up is the sequence itself locked and advanced; its lock is
 * taken before the LWLock, so that setval() under the LWLock never waits
 * for a heavyweight lock.
 */
int64
sg_next_id(Oid seqid, int64 step)
{
	IdSlot	   *volatile slot;
	volatile int64 id = 0;

	if (id_shared == NULL)
		return nextval_internal(seqid, false);
	/* the common case: the block reserved earlier still has ids */
	LWLockAcquire(id_shared->lock, LW_EXCLUSIVE);
	slot = find_slot(seqid);
	if (slot != NULL && slot->next < slot->limit)
	{
		id = slot->next;
		slot->next += step;
		LWLockRelease(id_shared->lock);
		return id;
	}
	LWLockRelease(id_shared->lock);

	/* the sequence is read or advanced: lock it as nextval() does */
	LockRelationOid(seqid, RowExclusiveLock);
	LWLockAcquire(id_shared->lock, LW_EXCLUSIVE);
	slot = find_slot(seqid);
	if (slot == NULL)
	{
		int64		next;

		/* first use since startup: continue after what the sequence says */
		LWLockRelease(id_shared->lock);
		next = sequence_next(seqid, step);
		LWLockAcquire(id_shared->lock, LW_EXCLUSIVE);
		slot = find_slot(seqid);
		if (slot == NULL)
		{
			if (id_shared->nslots == SG_ID_SLOTS)
			{
				LWLockRelease(id_shared->lock);
				return nextval_internal(seqid, false);
			}
			slot = &id_shared->slots[id_shared->nslots++];
			slot->dbid = MyDatabaseId;
			slot->seqid = seqid;
			slot->next = slot->limit = next;
		}
	}
	PG_TRY();
	{
		if (slot->next >= slot->limit)
		{
			sequence_reserve(seqid, slot->next + (SG_ID_BLOCK - 1) * step);
			slot->limit = slot->next + SG_ID_BLOCK * step;
		}
		id = slot->next;
		slot->next += step;
	}
	PG_FINALLY();
	{
		LWLockRelease(id_shared->lock);
	}
	PG_END_TRY();
	return id;
}

/* The next id of <table>_id_seq, the table's id sequence (ids.c: sg_next_id()). */
int64
sg_rows_next_id(Relation rel)
{
	return sg_next_id(sg_rows_relid(psprintf("%s_id_seq", RelationGetRelationName(rel)), false), 1);
}
