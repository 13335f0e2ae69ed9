/*-------------------------------------------------------------------------
 *
 * lock_retry.c
 *		Lock acquisition with bounded waits and retries, in the server.
 *
 * A migration's statement that needs a lock of SHARE or stronger, run with
 * lock_timeout 0, would queue behind any session in the way, however long,
 * and every query that arrives meanwhile would queue behind it.  Runners
 * (Prisma, Flyway, ...) cannot retry.  Before the rules judge such a
 * statement, the hook calls sg_lock_with_retries(), which takes the
 * statement's locks itself, in core's order (the fact source's lookups, the
 * ones rule require-lock-timeout makes), in attempts:
 *
 *	- each attempt runs in an internal subtransaction; each lock is asked for
 *	  without waiting, and if it is not free, waited for in the queue for at
 *	  most schemaguard.lock_wait_slice;
 *	- when a wait times out, the subtransaction is rolled back: the attempt
 *	  leaves the queue and releases the locks it took before (the table
 *	  whose foreign key it adds, say), so the sessions behind it proceed;
 *	- it sleeps with jittered exponential backoff and tries again, until
 *	  schemaguard.lock_retry_budget is spent.
 *
 * When every lock is held the statement runs (its own lock requests find
 * them granted).  When the budget runs out, nothing is held and the rule
 * refuses the statement as before, naming the sessions in the way.
 *
 * No retry when the transaction already holds a lock of SHARE or stronger
 * (from an earlier statement) on a relation other sessions can see: sleeping would keep
 * that relation's traffic waiting for the whole budget.  One slice is
 * waited, then the rule refuses, and says why.
 *
 * Every retry is visible: a NOTICE at the first (the lock, the sessions in
 * the way, the budget), a LOG line at each (attempt count and sessions),
 * and a LOG line when the locks are taken after retries.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "schemaguard.h"

/* schemaguard.lock_retry, lock_wait_slice, lock_retry_budget (schemaguard.c) */
bool		sg_lock_retry = true;
int			sg_lock_wait_slice = 50;
int			sg_lock_retry_budget = 30000;

/* The first and the longest sleep between attempts, in ms (before jitter). */
#define SG_RETRY_SLEEP_MIN	100
#define SG_RETRY_SLEEP_MAX	1000

/*
 * Did this statement's statement_timeout fire (and go unreported)?  Its
 * timer is no longer active, was started for this statement, and its
 * deadline has passed.
 */
static bool
statement_timeout_spent(void)
{
	TimestampTz fin;

	if (StatementTimeout <= 0 || get_timeout_active(STATEMENT_TIMEOUT))
		return false;
	fin = get_timeout_finish_time(STATEMENT_TIMEOUT);
	return fin != 0 && fin <= GetCurrentTimestamp() &&
		get_timeout_start_time(STATEMENT_TIMEOUT) >= GetCurrentStatementStartTimestamp();
}

/*
 * One attempt: every target's lock in order, each asked for without waiting
 * and then, if busy, waited for for at most slice_ms.  Returns true with the
 * locks held (by the current transaction), false with none of this
 * attempt's held and *busy_name, *busy_mode and *blockers describing the
 * lock that was not granted.  Errors other than a lock timeout propagate.
 */
static bool
attempt(List *targets, int slice_ms, const char **busy_name,
		LOCKMODE *busy_mode, const char **blockers)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	SgFactSource *nowait = sg_live_fact_source(true);
	SgFactSource *wait = sg_live_fact_source(false);
	int			saved_timeout = LockTimeout;
	volatile bool ok = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		ListCell   *lc;

		foreach(lc, targets)
		{
			SgLockTarget *target = lfirst(lc);
			SgLockSpec	locks = {target->mode, NoLock, target->recurse, target->relkinds, true, target->inherit};
			SgRelFacts	t;

			nowait->relation(nowait, target->rv, locks, &t);
			if (!t.lock_busy)
				continue;
			*busy_name = t.table_qualname ? t.table_qualname : t.qualname;
			*busy_mode = target->mode;
			*blockers = t.blockers;
			/* in the queue, for one slice at most */
			LockTimeout = slice_ms;
			locks.conditional = false;
			wait->relation(wait, target->rv, locks, &t);
			LockTimeout = saved_timeout;
		}
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		ok = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		/*
		 * Leave the attempt's subtransaction before anything else, as
		 * PL/pgSQL does: an error that is not the slice's timeout (a
		 * cancel, a deadlock) is raised again from the caller's level, so
		 * that its own exception block finds its own subtransaction.
		 */
		LockTimeout = saved_timeout;
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			ReThrowError(edata);
		FreeErrorData(edata);

		/*
		 * When the statement's own statement_timeout ran out together with
		 * the slice's lock_timeout, core reports the lock timeout (the one
		 * due first) and clears both: the statement timeout is spent, and
		 * retrying would run past it.  Report it as core would have.
		 */
		if (statement_timeout_spent())
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("canceling statement due to statement timeout")));
	}
	PG_END_TRY();
	return ok;
}

/*
 * A relation on which this transaction holds a lock of SHARE or stronger
 * that other sessions' traffic waits for (called after a failed attempt,
 * so these are locks of its earlier statements, the statement's own table
 * included): not a temporary relation, not one created by this
 * transaction, not one of schemaguard's own.  Its name and lock, or NULL.
 */
static char *
held_already(void)
{
	LockData   *data = GetLockStatusData();
	Oid			own_nsp = get_namespace_oid(SG_SCHEMA, true);
	int			i;

	for (i = 0; i < data->nelements; i++)
	{
		LockInstanceData *inst = &data->locks[i];
		Oid			relid = inst->locktag.locktag_field2;
		LOCKMODE	mode;
		Relation	rel;
		bool		visible = false;

		if (inst->pid != MyProcPid ||
			inst->locktag.locktag_type != LOCKTAG_RELATION ||
			inst->locktag.locktag_field1 != MyDatabaseId)
			continue;
		for (mode = MaxLockMode; mode >= ShareLock; mode--)
			if (inst->holdMask & LOCKBIT_ON(mode))
				break;
		if (mode < ShareLock)
			continue;
		rel = RelationIdGetRelation(relid);	/* we hold a lock on it */
		if (RelationIsValid(rel))
		{
			visible = rel->rd_rel->relpersistence != RELPERSISTENCE_TEMP &&
				rel->rd_rel->relnamespace != own_nsp &&
				rel->rd_createSubid == InvalidSubTransactionId;
			RelationClose(rel);
		}
		if (visible)
			return psprintf("%s on %s", sg_lock_name(mode), sg_qualified_relname(relid));
	}
	return NULL;
}

/* Sleep ms milliseconds, or less if the latch is set; interruptible. */
static void
retry_sleep(int ms)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 ms, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

/*
 * Take the statement's strong locks, retrying as the file header says.
 * Records in st what the rule's refusal reports: the attempts, the time
 * spent, and why it did not retry.  Returns true when the locks are held.
 */
bool
sg_lock_with_retries(SgStatement *st)
{
	List	   *targets = sg_statement_strong_locks(st->parsetree);
	TimestampTz start = GetCurrentTimestamp();
	int			sleep_ms = SG_RETRY_SLEEP_MIN;

	const char *busy_name = NULL;
	LOCKMODE	busy_mode = NoLock;

	if (targets == NIL)
		return true;
	for (;;)
	{
		const char *blockers = NULL;
		long		elapsed;
		int			jittered;

		st->lock_attempts++;
		if (attempt(targets, sg_lock_wait_slice, &busy_name, &busy_mode, &blockers))
		{
			if (st->lock_attempts > 1)
				ereport(LOG,
						(errmsg("schemaguard: %s lock on %s taken at attempt %d, after %ld ms",
								sg_lock_name(busy_mode), busy_name, st->lock_attempts,
								(long) TimestampDifferenceMilliseconds(start, GetCurrentTimestamp()))));
			st->lock_attempts = 0;	/* nothing to report: it runs */
			return true;
		}
		elapsed = TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
		st->lock_waited_ms = (int) elapsed;
		if (st->lock_attempts == 1)
		{
			st->lock_no_retry = held_already();
			if (st->lock_no_retry)
				return false;
		}
		jittered = sleep_ms / 2 + (int) (pg_prng_double(&pg_global_prng_state) * sleep_ms);
		if (elapsed + jittered + sg_lock_wait_slice > sg_lock_retry_budget)
			return false;
		if (st->lock_attempts == 1)
			ereport(NOTICE,
					(errmsg("%s lock on %s is busy: schemaguard retries for up to %d ms",
							sg_lock_name(busy_mode), busy_name, sg_lock_retry_budget),
					 errdetail("Each attempt waits in the lock queue for at most %d ms, then leaves it "
							   "so that the queries behind it can proceed. Sessions in the way:\n%s",
							   sg_lock_wait_slice, blockers ? blockers : "(none any more)")));
		ereport(LOG,
				(errmsg("schemaguard: attempt %d for %s lock on %s timed out after %d ms in the queue; "
						"next attempt in %d ms",
						st->lock_attempts, sg_lock_name(busy_mode), busy_name,
						sg_lock_wait_slice, jittered),
				 errdetail("Sessions in the way:\n%s", blockers ? blockers : "(none any more)")));
		retry_sleep(jittered);
		sleep_ms = Min(sleep_ms * 2, SG_RETRY_SLEEP_MAX);
	}
}
