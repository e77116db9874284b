/*
 * rabitq_inspect.c
 *	  Access rules shared by the functions that read an index's internals
 *	  (rabitq_index_check, rabitq_index_stats).
 *
 * Index pages carry no row-level-security policies and index_open() checks
 * no privileges, so these functions check for themselves: the caller must
 * own the table (or be a superuser), and must not be subject to row security
 * on it, since list sizes and entry counts describe every tenant's rows.
 * The SQL script also revokes them from PUBLIC.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"

#include "rabitq.h"

/*
 * Opens a rabitq index and its table with lockmode after checking that the
 * caller may read its internals; fname names the calling function.
 */
void
RabitqOpenForInspection(Oid indexoid, LOCKMODE lockmode, const char *fname,
						Relation *heap, Relation *index)
{
	Oid			heapoid = IndexGetRelation(indexoid, true);

	if (!OidIsValid(heapoid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an index", get_rel_name(indexoid) ? get_rel_name(indexoid) : "?")));
	/* a partitioned index has no pages: each partition's index has its own */
	if (get_rel_relkind(indexoid) == RELKIND_PARTITIONED_INDEX)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s cannot read partitioned index \"%s\"", fname, get_rel_name(indexoid)),
				 errdetail("A partitioned index has no storage; each partition has an index of its own."),
				 errhint("Call %s on the index of each partition (pg_partition_tree lists them).",
						 fname)));
	if (!pg_class_ownercheck(heapoid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(heapoid));
	if (check_enable_rls(heapoid, InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s is not available for table \"%s\", which has row-level security",
						fname, get_rel_name(heapoid)),
				 errdetail("The index describes the rows of every role."),
				 errhint("Call it as a role that bypasses row security, or without FORCE ROW LEVEL SECURITY as the table owner.")));
	*heap = table_open(heapoid, lockmode);
	*index = index_open(indexoid, lockmode);
	if ((*index)->rd_indam->amgettuple != rabitqgettuple)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a rabitq index", RelationGetRelationName(*index))));
}
