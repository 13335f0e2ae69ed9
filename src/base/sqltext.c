/*-------------------------------------------------------------------------
 *
 * sqltext.c
 *		Helpers that turn a statement and its facts into message text:
 *		editing the user's own SQL into the safe form, lock names, sizes.
 *
 * Hints are built from the user's statement text, edited at token positions
 * found with core's own scanner, so comments, quoting, expressions and
 * options survive exactly as written.  Offsets here are relative to the
 * statement's own text (SgStatement.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/pg_class.h"
#include "lib/stringinfo.h"
#include "common/keywords.h"
#include "catalog/namespace.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "parser/scanner.h"
#include "utils/builtins.h"

#include "utils/lsyscache.h"
#include "schemaguard.h"

/* Byte offset just past the token that starts at 'start'. */
static int
token_end(const char *s, int start)
{
	const char *p = s + start;
	char		q = *p;

	if (q == '"' || q == '\'')
	{
		for (p++; *p; p++)
		{
			if (*p == q)
			{
				if (p[1] == q)
				{
					p++;
					continue;
				}
				p++;
				break;
			}
		}
		return p - s;
	}
	if (isalnum((unsigned char) q) || q == '_' || IS_HIGHBIT_SET(q))
	{
		while (isalnum((unsigned char) *p) || *p == '_' || *p == '$' ||
			   (*p == '.' && isdigit((unsigned char) q)) || IS_HIGHBIT_SET(*p))
			p++;
		return p - s;
	}
	return start + 1;
}

/*
 * Scan sql with core's lexer.  Calls visit(start, keyword, arg) for every
 * token, keyword being the lower-case keyword or NULL; visit returns false
 * to stop.  Never raises on bad input: the statement already parsed.
 */
static void
scan_tokens(const char *sql, bool (*visit) (int start, int tok, const char *keyword, void *arg),
			void *arg)
{
	core_yy_extra_type extra;
	core_yyscan_t scanner;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;

	scanner = scanner_init(sql, &extra, &ScanKeywords, ScanKeywordTokens);
	for (;;)
	{
		int			tok = core_yylex(&yylval, &yylloc, scanner);
		const char *kw = NULL;
		char		word[NAMEDATALEN];
		int			len;

		if (tok == 0)
			break;

		/*
		 * A keyword is an unquoted word that the keyword list knows.  Token
		 * numbers are not used: gram.h is not installed on every major.
		 */
		len = token_end(sql, yylloc) - yylloc;
		if (isalpha((unsigned char) sql[yylloc]) && len < NAMEDATALEN)
		{
			for (int i = 0; i < len; i++)
				word[i] = pg_ascii_tolower((unsigned char) sql[yylloc + i]);
			word[len] = '\0';
			if (ScanKeywordLookup(word, &ScanKeywords) >= 0)
				kw = pstrdup(word);
		}
		if (!visit(yylloc, tok, kw, arg))
			break;
	}
	scanner_finish(scanner);
}

typedef struct TokenSpan
{
	const char *keyword;		/* in: keyword to find, or NULL */
	int			first;			/* out: start of the first token */
	int			last;			/* out: start of the last token before ';' */
	int			found;			/* out: end of the keyword token, or -1 */
} TokenSpan;

/* scan_tokens visitor: record the statement's span and a keyword's end. */
static bool
span_visitor(int start, int tok, const char *keyword, void *arg)
{
	TokenSpan  *span = arg;

	if (tok == ';')
		return false;
	if (span->first < 0)
		span->first = start;
	span->last = start;
	if (span->found < 0 && span->keyword && keyword &&
		strcmp(keyword, span->keyword) == 0)
		span->found = start + strlen(keyword);
	return true;
}

/* Find the statement's first and last token and, optionally, a keyword. */
static TokenSpan
statement_span(const char *sql, const char *keyword)
{
	TokenSpan	span = {keyword, -1, -1, -1};

	scan_tokens(sql, span_visitor, &span);
	return span;
}

/*
 * The statement with leading comments and the trailing semicolon removed,
 * and with 'insertion' placed at offset 'at' (or nowhere when at < 0).
 */
static char *
trimmed_with_insertion(const char *sql, TokenSpan span, int at, const char *insertion)
{
	StringInfoData buf;
	int			end;

	if (span.first < 0)
		return pstrdup(sql);
	end = token_end(sql, span.last);
	initStringInfo(&buf);
	if (at >= span.first && at <= end)
	{
		appendBinaryStringInfo(&buf, sql + span.first, at - span.first);
		appendStringInfoString(&buf, insertion);
		appendBinaryStringInfo(&buf, sql + at, end - at);
	}
	else
		appendBinaryStringInfo(&buf, sql + span.first, end - span.first);
	return buf.data;
}

/*
 * The statement with 'insertion' placed right after the first occurrence of
 * keyword (lower case), e.g. " CONCURRENTLY" after INDEX.
 */
char *
sg_insert_after_keyword(const char *sql, const char *keyword, const char *insertion)
{
	TokenSpan	span = statement_span(sql, keyword);

	return trimmed_with_insertion(sql, span, span.found, insertion);
}

/* The statement with 'insertion' placed at byte offset 'location'. */
char *
sg_insert_at(const char *sql, int location, const char *insertion)
{
	TokenSpan	span = statement_span(sql, NULL);

	return trimmed_with_insertion(sql, span, location, insertion);
}

/* Name of a lock mode as the documentation spells it. */
const char *
sg_lock_name(LOCKMODE mode)
{
	static const char *const names[] = {
		"no", "ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE",
		"SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE",
		"EXCLUSIVE", "ACCESS EXCLUSIVE"
	};

	if (mode < 0 || mode >= lengthof(names))
		return "unknown";
	return names[mode];
}

/* "a SHARE lock", "an ACCESS EXCLUSIVE lock" */
char *
sg_lock_phrase(LOCKMODE mode)
{
	const char *name = sg_lock_name(mode);

	return psprintf("%s %s lock", (name[0] == 'A' || name[0] == 'E') ? "an" : "a", name);
}

/* What a lock mode blocks, for details. */
const char *
sg_lock_blocks(LOCKMODE mode)
{
	switch (mode)
	{
		case ShareUpdateExclusiveLock:
			return "other schema changes, VACUUM and ANALYZE";
		case ShareLock:
			return "INSERT, UPDATE and DELETE";
		case ShareRowExclusiveLock:
		case ExclusiveLock:
			return "INSERT, UPDATE, DELETE and SELECT FOR UPDATE";
		case AccessExclusiveLock:
			return "every read and write";
		default:
			return "conflicting statements";
	}
}

/* "3544 kB, about 100000 rows", "3 partitions, 12 MB in all", "15 MB over 32 shards" ... */
char *
sg_size_phrase(const SgRelFacts *facts)
{
	char	   *size;

	if (facts->unknown)
		return pstrdup("not in this database, so assumed to hold data");
	if (facts->lock_busy)
		return pstrdup("another session holds or awaits a conflicting lock on it");
	if (facts->assumed)
		return pstrdup("assumed to hold data");
	if (facts->bytes < 0 && facts->nshards > 0)
		return psprintf("%d shard%s, whose size Citus could not read here, so assumed to hold data",
						facts->nshards, facts->nshards == 1 ? "" : "s");
	if (facts->bytes < 0)
		return pstrdup("size unknown");
	size = text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
															  Int64GetDatum(facts->bytes))));
	if (facts->reference)
		return psprintf("%s, a reference table on every node", size);
	if (facts->nshards > 0 && facts->npartitions > 0)
		return psprintf("%d partition%s, %s over %d shards in all", facts->npartitions,
						facts->npartitions == 1 ? "" : "s", size, facts->nshards);
	if (facts->nshards > 0)
		return psprintf("%s over %d shard%s", size, facts->nshards,
						facts->nshards == 1 ? "" : "s");
	if (facts->relkind == RELKIND_PARTITIONED_TABLE ||
		facts->relkind == RELKIND_PARTITIONED_INDEX)
		return psprintf("%d partition%s, %s in all", facts->npartitions,
						facts->npartitions == 1 ? "" : "s", size);
	if (facts->inherited && facts->npartitions > 0)
		return psprintf("%s with its %d inheritance child%s", size, facts->npartitions,
						facts->npartitions == 1 ? "" : "ren");
	if (facts->rows > 0)
		return psprintf("%s, about %.0f row%s", size, facts->rows, facts->rows == 1 ? "" : "s");
	return size;
}

/* The name a RangeVar spells, quoted as needed. */
char *
sg_rangevar_name(const RangeVar *rv)
{
	if (rv->schemaname)
		return quote_qualified_identifier(rv->schemaname, rv->relname);
	return pstrdup(quote_identifier(rv->relname));
}

/*
 * How each migration runner lint() knows runs a file:
 *	- as one multi-statement string (Prisma, and the default): PostgreSQL
 *	  runs a string of more than one statement as one implicit transaction,
 *	  and a lone statement outside any.  Flyway behaves the same for these
 *	  statements: it runs a script that holds only statements that cannot
 *	  run in a transaction outside one, and refuses a script that mixes;
 *	- wrapped in BEGIN ... COMMIT, even a lone statement (dbmate,
 *	  node-pg-migrate, psql --single-transaction);
 *	- statement by statement (psql; sqitch runs its deploy scripts through
 *	  psql), where only the script's own BEGIN ... COMMIT counts.
 * The hint says how that runner takes a statement that cannot run in a
 * transaction.
 */
typedef enum SgRunnerMode
{
	SG_RUN_STRING,
	SG_RUN_WRAPPED,
	SG_RUN_STATEMENTS
} SgRunnerMode;

typedef struct SgRunner
{
	const char *name;
	SgRunnerMode mode;
	const char *how;
	/*
	 * After the file's own COMMIT, is the rest in a transaction again?  Yes
	 * for a multi-statement string (PostgreSQL runs each of its statements
	 * in an implicit block); no for psql -1, which sends statements one at a
	 * time.
	 */
	bool		resumes;
	/*
	 * A marker in the file with which a wrapping runner sends the file as one
	 * multi-statement string instead: dbmate's "transaction:false" is one
	 * Exec through lib/pq, an implicit transaction for more than one
	 * statement (seen with dbmate 2.36, test/t/010).
	 */
	const char *as_string;
	/* Where the runner runs a statement outside a transaction block. */
	const char *alone;
} SgRunner;

static const SgRunner runners[] = {
	{"single-transaction", SG_RUN_STRING, NULL, .resumes = true},
	{"prisma", SG_RUN_STRING, "Prisma runs each migration file as one transaction: put it alone in a migration "
	 "file of its own (prisma migrate dev --create-only, then edit that migration.sql)", .resumes = true,
	 .alone = "for Prisma: a migration of its own holding only this statement"},
	{"flyway", SG_RUN_STRING, "Flyway refuses a script that mixes it with transactional statements: put it "
	 "alone in a script of its own (or set executeInTransaction=false in that script's .sql.conf)", .resumes = true,
	 .alone = "for Flyway: alone in a script of its own"},
	{"dbmate", SG_RUN_WRAPPED, "dbmate runs each migration in a transaction, and one marked transaction:false "
	 "as one multi-statement string: put it alone in a migration of its own that starts with "
	 "\"-- migrate:up transaction:false\"", .resumes = true, .as_string = "migrate:up transaction:false",
	 .alone = "for dbmate: alone in a migration under \"-- migrate:up transaction:false\""},
	{"node-pg-migrate", SG_RUN_WRAPPED, "node-pg-migrate runs each migration in a transaction: put it alone in "
	 "a migration of its own that calls pgm.noTransaction()", .resumes = true,
	 .alone = "for node-pg-migrate: alone in a migration that calls pgm.noTransaction()"},
	{"prisma8", SG_RUN_WRAPPED, "Prisma 8's db migrate applies every pending migration in one transaction, "
	 "and its planner never writes CONCURRENTLY: run this statement by hand, outside a transaction, before "
	 "db migrate, and keep it out of the migration's operations", .resumes = false,
	 .alone = "for Prisma 8: by hand before prisma db migrate, which runs every pending migration in one "
	 "transaction"},
	{"psql-single", SG_RUN_WRAPPED, "psql --single-transaction (-1) runs the file as one transaction: run this "
	 "file without -1", .resumes = false,
	 .alone = "for psql: a file run without --single-transaction"},
	{"per-statement", SG_RUN_STATEMENTS, NULL, .resumes = false},
	{"psql", SG_RUN_STATEMENTS, "psql runs each statement in its own transaction: move it out of the BEGIN ... "
	 "COMMIT block", .resumes = false,
	 .alone = "for psql: not between BEGIN and COMMIT"},
	{"sqitch", SG_RUN_STATEMENTS, "sqitch runs the deploy script through psql: move it out of the script's "
	 "BEGIN ... COMMIT, into a change of its own", .resumes = false,
	 .alone = "for sqitch: a change of its own, outside the deploy script's BEGIN ... COMMIT"},
};

static const SgRunner *
find_runner(const char *name)
{
	for (int i = 0; i < lengthof(runners); i++)
	{
		if (name && strcmp(runners[i].name, name) == 0)
			return &runners[i];
	}
	return NULL;
}

/* Is name a runner lint() knows? */
bool
sg_runner_known(const char *name)
{
	return find_runner(name) != NULL;
}

/* The runners lint() knows, for an error message. */
const char *
sg_runner_names(void)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < lengthof(runners); i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "", runners[i].name);
	return buf.data;
}

/*
 * Does the runner run a file of nstmts statements in one transaction?  (-1:
 * does it ever?)  sql, when given, is the file, for the runner's markers.
 */
bool
sg_runner_single(const char *name, int nstmts, const char *sql)
{
	const SgRunner *r = find_runner(name);
	bool		wrapped;

	if (r == NULL || r->mode == SG_RUN_STATEMENTS)
		return false;
	wrapped = r->mode == SG_RUN_WRAPPED &&
		!(r->as_string != NULL && sql != NULL && strstr(sql, r->as_string) != NULL);
	return wrapped || nstmts < 0 || nstmts > 1;
}

/*
 * Does the runner wrap the file in a transaction of its own (BEGIN before,
 * COMMIT after), rather than send it as one string that PostgreSQL runs as
 * an implicit transaction?  Then the file's own BEGIN nests and its COMMIT
 * ends the runner's transaction.
 */
bool
sg_runner_wraps(const char *name, const char *sql)
{
	const SgRunner *r = find_runner(name);

	return r != NULL && r->mode == SG_RUN_WRAPPED &&
		!(r->as_string != NULL && sql != NULL && strstr(sql, r->as_string) != NULL);
}

/* After the file's own COMMIT, is the rest of it in a transaction again? */
bool
sg_runner_resumes(const char *name)
{
	const SgRunner *r = find_runner(name);

	return r != NULL && r->resumes;
}

/*
 * The hint for a statement that cannot run inside a transaction block: how
 * the runner takes one, or (runner unknown: the live server) how the common
 * ones do.
 */
const char *
sg_no_xact_hint(const char *command, const char *runner)
{
	const SgRunner *r = find_runner(runner);

	if (r != NULL && r->how != NULL)
		return psprintf("%s cannot share a transaction with other statements. %s, and keep the "
						"rest of the migration in a separate, transactional one.", command, r->how);
	return psprintf("%s cannot share a transaction with other statements. "
					"Put it in a migration of its own that runs outside BEGIN ... COMMIT "
					"(Prisma: a migration file holding only this statement; "
					"dbmate: alone, under \"-- migrate:up transaction:false\"; "
					"Flyway: executeInTransaction=false), and keep the rest of the "
					"migration in a separate, transactional one.",
					command);
}

/*
 * Where a statement that cannot run in a transaction block goes, in the
 * runner's terms (lint() names it), or in those of the common runners (the
 * live server does not know which one sends the statement): the end of the
 * hints whose safe form is CONCURRENTLY.
 */
const char *
sg_outside_block(const char *runner)
{
	const SgRunner *r = find_runner(runner);

	if (r != NULL && r->alone != NULL)
		return psprintf("outside a transaction block (%s)", r->alone);
	return "outside a transaction block (for Prisma: a migration of its own holding only this "
		"statement; dbmate: alone under \"-- migrate:up transaction:false\"; node-pg-migrate: "
		"alone in a migration that calls pgm.noTransaction(); Flyway: alone in a script of its "
		"own; sqitch: a change of its own, outside BEGIN ... COMMIT)";
}

/* The statement without leading comments and the trailing semicolon. */
char *
sg_statement_trimmed(const char *sql)
{
	return trimmed_with_insertion(sql, statement_span(sql, NULL), -1, NULL);
}

typedef struct ClauseSpan
{
	int			from;			/* in: where the clause starts */
	int			depth;
	int			last;			/* out: start of its last token */
} ClauseSpan;

/* scan_tokens visitor: follow a clause to a comma or ';' at its own depth. */
static bool
clause_visitor(int start, int tok, const char *keyword, void *arg)
{
	ClauseSpan *c = arg;

	if (start < c->from)
		return true;
	if (tok == '(')
		c->depth++;
	else if (tok == ')')
	{
		if (--c->depth < 0)
			return false;
	}
	else if ((tok == ',' && c->depth == 0) || tok == ';')
		return false;
	c->last = start;
	return true;
}

/*
 * The text of the clause starting at byte offset location: up to the comma
 * or semicolon that ends it, e.g. one ALTER TABLE subcommand's constraint.
 */
char *
sg_clause_text(const char *sql, int location)
{
	ClauseSpan	c = {location, 0, -1};

	if (location < 0 || location >= (int) strlen(sql))
		return NULL;
	scan_tokens(sql, clause_visitor, &c);
	if (c.last < 0)
		return NULL;
	return pnstrdup(sql + location, token_end(sql, c.last) - location);
}

typedef struct EndSearch
{
	int			before;
	int			depth;
	int			found;
} EndSearch;

static bool
end_visitor(int start, int tok, const char *keyword, void *arg)
{
	EndSearch  *e = arg;

	if (start >= e->before)
		return false;
	if (tok == '(')
		e->depth++;
	else if (tok == ')')
		e->depth--;
	else if (tok == ';' && e->depth <= 0)
		e->found = start + 1;
	return true;
}

/*
 * Offset just past the last top-level semicolon before byte offset 'before'
 * (0 if none): where the statements that precede a syntax error end.
 */
int
sg_last_statement_end(const char *sql, int before)
{
	EndSearch	e = {before, 0, 0};

	scan_tokens(sql, end_visitor, &e);
	return e.found;
}

/* Is c a character of a rule id? */
static bool
is_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Parse the text of one comment; NULL unless it is an ignore directive. */
static SgIgnoreComment *
parse_ignore(const char *body, int len)
{
	static const char marker[] = "schemaguard:ignore";
	char	   *text = pnstrdup(body, len);
	char	   *p = text;
	SgIgnoreComment *ic;

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, marker, sizeof(marker) - 1) != 0)
		return NULL;
	/* "schemaguard:ignore-file": schemaguard-lint's per-file directive */
	if (strncmp(p + sizeof(marker) - 1, "-file", 5) == 0 && !is_id_char(p[sizeof(marker) - 1 + 5]))
		return NULL;
	ic = palloc0(sizeof(SgIgnoreComment));
	ic->text = pstrdup(p);
	p += sizeof(marker) - 1;
	for (;;)
	{
		char	   *start;

		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		while (is_id_char(*p))
			p++;
		if (p == start)
			break;
		ic->ids = lappend(ic->ids, makeString(pnstrdup(start, p - start)));
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ',')
			break;
		p++;
	}
	/* The rest is the reason, trimmed. */
	{
		char	   *end = p + strlen(p);

		while (end > p && isspace((unsigned char) end[-1]))
			end--;
		ic->reason = pnstrdup(p, end - p);
	}
	return ic;
}

/*
 * Walk the comments before the first token of sql, calling visit(body, len)
 * for each; returns the offset of the first token.
 */
static int
walk_leading_comments(const char *sql, void (*visit) (const char *body, int len, void *arg),
					  void *arg)
{
	const char *p = sql;

	for (;;)
	{
		while (isspace((unsigned char) *p))
			p++;
		if (p[0] == '-' && p[1] == '-')
		{
			const char *end = strchr(p, '\n');

			if (end == NULL)
				end = p + strlen(p);
			if (visit)
				visit(p + 2, end - p - 2, arg);
			p = end;
		}
		else if (p[0] == '/' && p[1] == '*')
		{
			const char *q = p + 2;
			int			depth = 1;

			while (*q && depth > 0)
			{
				if (q[0] == '/' && q[1] == '*')
					depth++, q += 2;
				else if (q[0] == '*' && q[1] == '/')
					depth--, q += 2;
				else
					q++;
			}
			if (visit)
				visit(p + 2, (depth == 0 ? q - 2 : q) - (p + 2), arg);
			p = q;
		}
		else
			return p - sql;
	}
}

/* walk_leading_comments visitor: collect ignore directives. */
static void
collect_ignore(const char *body, int len, void *arg)
{
	List	  **result = arg;
	SgIgnoreComment *ic = parse_ignore(body, len);

	if (ic)
		*result = lappend(*result, ic);
}

/*
 * The ignore directives among the comments that precede the statement's
 * first token: "-- schemaguard:ignore id[, id...] reason" or the same in a
 * block comment.
 */
List *
sg_ignore_comments(const char *sql)
{
	List	   *result = NIL;

	(void) walk_leading_comments(sql, collect_ignore, &result);
	return result;
}

/*
 * Where the comments directly above byte offset 'location' of text begin:
 * block comments and whole-line "--" comments, separated only by
 * whitespace.  PostgreSQL 18 starts a statement at its first token, earlier
 * majors right after the previous semicolon; looking back from the
 * statement finds the same comments on both.
 */
int
sg_comments_start(const char *text, int location)
{
	int			start = location;

	for (;;)
	{
		int			q = start;
		int			line;
		int			c;

		while (q > 0 && isspace((unsigned char) text[q - 1]))
			q--;
		/*
		 * Right after the previous statement's semicolon: no comment is
		 * above this statement.  (Without this, every statement of a
		 * one-line script would scan the line back to its start.)
		 */
		if (q > 0 && text[q - 1] == ';')
			return start;
		if (q >= 2 && text[q - 1] == '/' && text[q - 2] == '*')
		{
			int			r = q - 2;

			while (r >= 2 && !(text[r - 2] == '/' && text[r - 1] == '*'))
				r--;
			if (r < 2)
				return start;
			start = r - 2;
			continue;
		}
		line = q;
		while (line > 0 && text[line - 1] != '\n')
			line--;
		c = line;
		while (c < q && (text[c] == ' ' || text[c] == '\t'))
			c++;
		if (c + 1 < q && text[c] == '-' && text[c + 1] == '-')
		{
			start = line;
			continue;
		}
		/* "...; -- comment": a comment after the previous statement's end */
		for (; c + 1 < q; c++)
		{
			if (text[c] == '-' && text[c + 1] == '-')
			{
				int			b = c;

				while (b > line && isspace((unsigned char) text[b - 1]))
					b--;
				return (b > line && text[b - 1] == ';') ? c : start;
			}
		}
		return start;
	}
}

/* Is the token at sql[start] a string constant ('..', E'..', B'..', X'..', N'..', U&'..', $tag$..$tag$)? */
static bool
string_constant_at(const char *sql, int start)
{
	const char *p = sql + start;

	if (*p == '\'')
		return true;
	if (strchr("eEbBxXnN", *p) && p[1] == '\'')
		return true;
	if ((*p == 'u' || *p == 'U') && p[1] == '&' && p[2] == '\'')
		return true;
	if (*p == '$')
	{
		/* a dollar quote's opening tag, not a parameter ($1) */
		for (p++; *p && *p != '$'; p++)
		{
			if (!(isalpha((unsigned char) *p) || *p == '_' || IS_HIGHBIT_SET(*p) ||
				  (p > sql + start + 1 && isdigit((unsigned char) *p))))
				return false;
		}
		return *p == '$';
	}
	return false;
}

typedef struct RedactScan
{
	const char *sql;
	int		   *starts;			/* token starts */
	bool	   *secret;			/* the token is to be redacted */
	int			n;
	int			size;
	bool		value_only;		/* in: only what follows SET name = / TO */
	bool		after_set;		/* a SET keyword was seen */
	bool		in_value;		/* past its "=" or TO */
} RedactScan;

static bool
redact_visitor(int start, int tok, const char *keyword, void *arg)
{
	RedactScan *rs = arg;

	if (rs->n == rs->size)
	{
		rs->size *= 2;
		rs->starts = repalloc(rs->starts, sizeof(int) * rs->size);
		rs->secret = repalloc(rs->secret, sizeof(bool) * rs->size);
	}
	rs->starts[rs->n] = start;
	if (tok == ';')
		rs->secret[rs->n] = false;
	else if (!rs->value_only)
		rs->secret[rs->n] = string_constant_at(rs->sql, start);
	else
	{
		rs->secret[rs->n] = rs->in_value;
		if (rs->in_value)
			;
		else if (keyword && strcmp(keyword, "set") == 0)
			rs->after_set = true;
		else if (rs->after_set && (tok == '=' || (keyword && strcmp(keyword, "to") == 0)))
			rs->in_value = true;
	}
	rs->n++;
	return tok != ';';
}

/*
 * The statement with its secrets replaced by '********': every string
 * constant, or (value_only) the value that follows "SET name =" or "SET
 * name TO", whatever its tokens.  Keywords and names are kept, so the text
 * still says what was done, to what.  A comment between a secret and the
 * next token goes with the secret.
 */
char *
sg_redact_constants(const char *sql, bool value_only)
{
	RedactScan	rs = {0};
	StringInfoData buf;
	int			len = strlen(sql);
	int			copied = 0;

	rs.sql = sql;
	rs.size = 16;
	rs.starts = palloc(sizeof(int) * rs.size);
	rs.secret = palloc(sizeof(bool) * rs.size);
	rs.value_only = value_only;
	scan_tokens(sql, redact_visitor, &rs);
	initStringInfo(&buf);
	for (int i = 0; i < rs.n; i++)
	{
		int			end;

		if (!rs.secret[i])
			continue;
		appendBinaryStringInfo(&buf, sql + copied, rs.starts[i] - copied);
		appendStringInfoString(&buf, "'********'");
		if (value_only)
		{
			while (i + 1 < rs.n && rs.secret[i + 1])
				i++;
		}
		end = i + 1 < rs.n ? rs.starts[i + 1] : len;
		if (i + 1 < rs.n && isspace((unsigned char) sql[end - 1]))
			appendStringInfoChar(&buf, ' ');
		copied = end;
	}
	appendBinaryStringInfo(&buf, sql + copied, len - copied);
	return buf.data;
}

/* Offset of the first character after leading whitespace and comments. */
int
sg_first_token_offset(const char *sql)
{
	return walk_leading_comments(sql, NULL, NULL);
}

/*
 * Is a dotted name usable as is: 1 to 3 parts, and a 3-part name in this
 * database?  Core raises "improper qualified name" or "cross-database
 * references" for the others when it runs the statement; the checks and
 * lint() must not raise first.
 */
bool
sg_name_ok(List *names)
{
	int			n = list_length(names);

	if (n < 1 || n > 3)
		return false;
	return n < 3 || strcmp(strVal(linitial(names)), get_database_name(MyDatabaseId)) == 0;
}

/* makeRangeVarFromNameList(), or NULL for a name core will refuse. */
RangeVar *
sg_rangevar_from_names(List *names)
{
	return sg_name_ok(names) ? makeRangeVarFromNameList(names) : NULL;
}

/* A list of String as identifiers, quoted as needed, joined by sep. */
static char *
joined_identifiers(List *names, const char *sep)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s", foreach_current_index(lc) ? sep : "",
						 quote_identifier(strVal(lfirst(lc))));
	return buf.data;
}

/* A qualified name given as a list of String: schema."Table". */
char *
sg_name_list(List *names)
{
	return joined_identifiers(names, ".");
}

/* Column names given as a list of String: a, "B". */
char *
sg_column_list(List *names)
{
	return joined_identifiers(names, ", ");
}
