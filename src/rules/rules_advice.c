/*-------------------------------------------------------------------------
 *
 * rules_advice.c
 *		The advice family: what a careful reviewer would point out, but that
 *		does not lock a table for long or lose data.  Warning (or off) by
 *		default, so that the guard's errors stay about danger.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#include "rule.h"

/*
 * fk-without-index (advice): a foreign key whose referencing columns lead no
 * index.  Deferred: judged again at the end of the transaction, so that an
 * index created later in the same migration counts.
 */
static void
sg_check_fk_without_index(const SgStatement *st, const SgRule *rule, List **findings)
{
	List	   *added = sg_added_constraints(st, CONSTR_FOREIGN);
	AlterTableStmt *stmt;
	SgRelFacts	t;
	ListCell   *lc;

	if (added == NIL || !sg_alter_target(st, &t))
		return;
	stmt = castNode(AlterTableStmt, st->parsetree);
	foreach(lc, added)
	{
		AddedConstraint *ac = lfirst(lc);
		List	   *cols = sg_fk_columns(ac);
		SgRelFacts *pk;
		SgFinding  *f;

		/* a NOT ENFORCED key (18+) has no triggers: nothing looks rows up */
		if (cols == NIL || !sg_constraint_enforced(ac->con))
			continue;
		pk = sg_referenced_table(st, ac->con);
		f = sg_add_finding(findings, rule,
						   psprintf("foreign key on %s (%s) without an index leading with its columns",
									t.qualname, sg_column_list(cols)),
						   psprintf("Every DELETE from %s, and every UPDATE of its key, must find the referencing "
									"rows of %s (%s); without an index that is a scan of the whole table, "
									"under a lock, for each row changed.",
									pk->qualname, t.qualname, sg_size_phrase(&t)),
						   psprintf("CREATE INDEX CONCURRENTLY %s ON %s (%s); %s.",
									sg_default_name(stmt->relation->relname, cols, "idx"),
									t.qualname, sg_column_list(cols),
									sg_outside_block(st->facts->runner)));
		f->deferred = true;
		f->target = t;
		f->columns = cols;
	}
}

/* At commit: does the foreign key still lack an index leading with its columns? */
static bool
sg_fk_index_recheck(SgFactSource *facts, SgFinding *f)
{
	return !facts->index_leads(facts, &f->target, f->columns);
}

static const SgRule rule_fk_without_index = {
	.id = "fk-without-index",
	.family = "advice",
	.default_level = SG_LEVEL_WARNING,
	.stmt_tags = {T_AlterTableStmt},
	.check = sg_check_fk_without_index,
	.description = "a foreign key whose columns lead no index makes DELETE and UPDATE on the referenced table scan this one",
	.recheck = sg_fk_index_recheck,
};

/* Is a column type name character(n) (bpchar, as the parser spells it)? */
static bool
is_char_type(const TypeName *tn)
{
	int32		typmod;

	if (tn == NULL || tn->arrayBounds != NIL)
		return false;
	/* a missing type or a bad modifier: InvalidOid, and core's error */
	return sg_catalog_type_of(tn, NULL) == BPCHAROID &&
		OidIsValid(sg_catalog_type_of(tn, &typmod));
}

/* A finding for column colname of type tn on table qualname. */
static void
char_finding(const SgRule *rule, const char *what, const char *qualname, const char *colname,
			 const TypeName *tn, List **findings)
{
	const char *c = quote_identifier(colname);
	char	   *type;
	int32		n = -1;

	if (list_length(tn->typmods) == 1 && IsA(linitial(tn->typmods), A_Const) &&
		IsA(&((A_Const *) linitial(tn->typmods))->val, Integer))
		n = intVal(&((A_Const *) linitial(tn->typmods))->val);
	/* as the user wrote it: character(3) */
	type = format_type_with_typemod(BPCHAROID, n > 0 ? n + VARHDRSZ : -1);
	sg_add_finding(findings, rule,
				   psprintf("%s %s of type %s on %s", what, c, type, qualname),
				   pstrdup("character(n) pads every value with spaces to n characters, and ignores "
						   "trailing spaces when it compares: 'ab' and 'ab ' are equal, and a value "
						   "reads back longer than it was written. It is no faster than text or varchar."),
				   n > 0 ?
				   psprintf("Use text, with CHECK (char_length(%s) <= %d) if the limit matters, or "
							"varchar(%d): %s text CHECK (char_length(%s) <= %d).", c, n, n, c, c, n) :
				   psprintf("Use text (or varchar(n)): %s text.", c));
}

/*
 * ban-char-field (advice): a column of type character(n), squawk's
 * ban-char-field.  New columns only: a CREATE TABLE's, an ADD COLUMN's, and
 * ALTER COLUMN ... TYPE.  Whatever the table holds: it is about the type.
 */
static void
sg_check_char_field(const SgStatement *st, const SgRule *rule, List **findings)
{
	ListCell   *lc;

	foreach(lc, sg_new_columns(st))
	{
		SgNewColumn *nc = lfirst(lc);

		if (is_char_type(nc->type))
			char_finding(rule, nc->what, sg_rangevar_name(nc->table), nc->name, nc->type, findings);
	}
}

static const SgRule rule_ban_char_field = {
	.id = "ban-char-field",
	.family = "advice",
	.default_level = SG_LEVEL_WARNING,
	.stmt_tags = {T_CreateStmt, T_AlterTableStmt},
	.check = sg_check_char_field,
	.description = "a column of type character(n), which pads with spaces and compares ignoring them: use text or varchar",
};

/*
 * require-enum-value-ordering (advice): ALTER TYPE ... ADD VALUE without
 * BEFORE or AFTER puts the label last, which every comparison of the enum
 * (ORDER BY, <, BETWEEN, min()) then sees.
 */
static void
sg_check_enum_ordering(const SgStatement *st, const SgRule *rule, List **findings)
{
	AlterEnumStmt *stmt = castNode(AlterEnumStmt, st->parsetree);
	char	   *name;

	if (stmt->oldVal != NULL || stmt->newVal == NULL || stmt->newValNeighbor != NULL)
		return;
	name = NameListToQuotedString(stmt->typeName);
	sg_add_finding(findings, rule,
				   psprintf("ADD VALUE %s to enum %s without BEFORE or AFTER", quote_literal_cstr(stmt->newVal), name),
				   psprintf("The new label sorts after every existing one: ORDER BY, <, BETWEEN and min()/max() "
							"over a column of %s see it last, which a query written for the enum's meaning "
							"(WHERE status < 'approved') may not expect.", name),
				   psprintf("Place it: ALTER TYPE %s ADD VALUE %s%s BEFORE '<existing label>'; (or AFTER).",
							name, stmt->skipIfNewValExists ? "IF NOT EXISTS " : "",
							quote_literal_cstr(stmt->newVal)));
}

static const SgRule rule_require_enum_value_ordering = {
	.id = "require-enum-value-ordering",
	.family = "advice",
	.default_level = SG_LEVEL_WARNING,
	.stmt_tags = {T_AlterEnumStmt},
	.check = sg_check_enum_ordering,
	.description = "ALTER TYPE ... ADD VALUE without BEFORE or AFTER: the label sorts last",
};

/*
 * ban-drop-not-null (advice): DROP NOT NULL lets NULLs in that the running
 * application's code, and every consumer of the table, was written never
 * to see.
 */
static void
sg_check_drop_not_null(const SgStatement *st, const SgRule *rule, List **findings)
{
	ListCell   *lc;
	SgRelFacts	t;

	if (IsA(st->parsetree, AlterDomainStmt))
	{
		AlterDomainStmt *stmt = (AlterDomainStmt *) st->parsetree;

		if (stmt->subtype == 'N')
			sg_add_finding(findings, rule,
						   psprintf("ALTER DOMAIN %s DROP NOT NULL", NameListToQuotedString(stmt->typeName)),
						   pstrdup("Every column of the domain starts to accept NULL, which code and "
								   "consumers written for NOT NULL do not expect."),
						   pstrdup("Make sure every reader handles NULL first, then drop it in a migration of "
								   "its own."));
		return;
	}
	if (!IsA(st->parsetree, AlterTableStmt) || sg_alter_cmds(st, AT_DropNotNull) == NIL)
		return;
	/* a table new in this transaction has no readers yet */
	(void) sg_alter_target(st, &t);
	if (!t.exists || t.created_in_xact || t.is_temp)
		return;
	foreach(lc, sg_alter_cmds(st, AT_DropNotNull))
	{
		AlterTableCmd *cmd = lfirst(lc);

		sg_add_finding(findings, rule,
					   psprintf("DROP NOT NULL on %s.%s", t.qualname ? t.qualname : "?",
								quote_identifier(cmd->name)),
					   pstrdup("The column starts to accept NULL: the running application, reports and "
							   "replicas written for NOT NULL may fail or miscount on the first one."),
					   pstrdup("Make sure every reader handles NULL first (deploy that), then drop it in a "
							   "migration of its own."));
	}
}

static const SgRule rule_ban_drop_not_null = {
	.id = "ban-drop-not-null",
	.family = "advice",
	.default_level = SG_LEVEL_WARNING,
	.stmt_tags = {T_AlterTableStmt, T_AlterDomainStmt},
	.check = sg_check_drop_not_null,
	.description = "ALTER COLUMN ... DROP NOT NULL (or of a domain): clients written for NOT NULL meet NULL",
};

/*
 * Bytes the token at p (within the text that starts at start) takes, if it
 * is a comment, a string or a dollar quote; 0 otherwise.
 */
static int
skip_literal(const char *start, const char *p)
{
	const char *q = p;

	if (p[0] == '-' && p[1] == '-')
	{
		while (*q && *q != '\n')
			q++;
		return q - p;
	}
	if (p[0] == '/' && p[1] == '*')
	{
		int			depth = 0;

		while (*q)
		{
			if (q[0] == '/' && q[1] == '*')
			{
				depth++;
				q += 2;
			}
			else if (q[0] == '*' && q[1] == '/')
			{
				q += 2;
				if (--depth == 0)
					break;
			}
			else
				q++;
		}
		return q - p;
	}
	if (*p == '\'')
	{
		bool		escapes = p > start && (p[-1] == 'E' || p[-1] == 'e');

		for (q = p + 1; *q; q++)
		{
			if (escapes && *q == '\\' && q[1])
				q++;
			else if (*q == '\'')
			{
				if (q[1] == '\'')
					q++;
				else
					return q + 1 - p;
			}
		}
		return q - p;
	}
	if (*p == '$' && (p[1] == '$' || isalpha((unsigned char) p[1]) || p[1] == '_'))
	{
		const char *end = p + 1;
		int			taglen;
		const char *close;

		while (isalnum((unsigned char) *end) || *end == '_')
			end++;
		if (*end != '$')
			return 0;
		taglen = end - p + 1;
		close = strstr(end + 1, pnstrdup(p, taglen));
		return close ? close + taglen - p : strlen(p);
	}
	return 0;
}

/*
 * identifier-too-long (advice): PostgreSQL cuts an identifier to 63 bytes
 * (NAMEDATALEN - 1), with only a NOTICE: two long names that share their
 * first 63 bytes name the same object, and the name in the catalog is not
 * the one in the code.  Read from the statement's text, as written (the
 * parse tree holds the cut names).
 */
static void
sg_check_identifier_too_long(const SgStatement *st, const SgRule *rule, List **findings)
{
	const char *p = st->sql;
	List	   *seen = NIL;

	while (p && *p)
	{
		int			skip = skip_literal(st->sql, p);
		const char *from = p;
		int			len = 0;
		bool		quoted = *p == '"';
		const char *end = NULL;	/* a quoted one's closing quote */
		char	   *ident;

		if (skip > 0)
		{
			p += skip;
			continue;
		}
		/* measure the identifier (a quoted one without its escapes) */
		if (quoted)
		{
			for (p++; *p && !(*p == '"' && p[1] != '"'); p++, len++)
			{
				if (*p == '"')
					p++;
			}
			end = p;
			if (*p)
				p++;
		}
		else if (isalpha((unsigned char) *p) || *p == '_' || IS_HIGHBIT_SET(*p))
		{
			while (isalnum((unsigned char) *p) || *p == '_' || *p == '$' || IS_HIGHBIT_SET(*p))
				p++;
			len = p - from;
		}
		else
		{
			p++;
			continue;
		}
		if (len < NAMEDATALEN)
			continue;
		/* only a long one is spelled out: unescaped, or folded to lower case */
		if (quoted)
		{
			StringInfoData buf;

			initStringInfo(&buf);
			for (const char *q = from + 1; q < end; q++)
			{
				appendStringInfoChar(&buf, *q);
				if (*q == '"')
					q++;	/* "" is one quote */
			}
			ident = buf.data;
		}
		else
		{
			ident = pnstrdup(from, len);
			for (int i = 0; i < len; i++)
				ident[i] = pg_ascii_tolower((unsigned char) ident[i]);
		}
		if (!list_member(seen, makeString(ident)))
		{
			int			cut = pg_mbcliplen(ident, len, NAMEDATALEN - 1);

			seen = lappend(seen, makeString(ident));
			sg_add_finding(findings, rule,
						   psprintf("identifier \"%s\" of %d bytes", ident, len),
						   psprintf("PostgreSQL cuts identifiers to %d bytes, with only a NOTICE: the object "
									"is named \"%.*s\", not what the code says, and another long name with "
									"the same first %d bytes names the same object.",
									NAMEDATALEN - 1, cut, ident, NAMEDATALEN - 1),
						   psprintf("Use a name of at most %d bytes, such as \"%.*s\".",
									NAMEDATALEN - 1, cut, ident));
		}
	}
}

static const SgRule rule_identifier_too_long = {
	.id = "identifier-too-long",
	.family = "advice",
	.default_level = SG_LEVEL_WARNING,
	.stmt_tags = {T_Invalid},
	.check = sg_check_identifier_too_long,
	.description = "an identifier longer than 63 bytes, which PostgreSQL cuts short with only a NOTICE",
};

/* This file's rules, in the order rules() lists them. */
const SgRule *const sg_advice_rules[] = {
	&rule_fk_without_index,
	&rule_ban_char_field,
	&rule_require_enum_value_ordering,
	&rule_ban_drop_not_null,
	&rule_identifier_too_long,
	NULL
};
