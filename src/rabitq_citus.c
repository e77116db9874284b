/*-------------------------------------------------------------------------
 *
 * rabitq_citus.c
 *	  Whether a table is the coordinator's shell of a Citus distributed
 *	  table: its rows live in shards (tables of their own, each with its own
 *	  rabitq index), so the shell's index is always empty and its build has
 *	  nothing to say about lists.  Citus records distributed tables in
 *	  pg_catalog.pg_dist_partition, first column logicalrelid; without Citus
 *	  that catalog does not exist.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_namespace.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"

#include "rabitq.h"

#define CITUS_PARTITION_CATALOG "pg_dist_partition"
#define CITUS_LOGICALRELID_ATTNO 1

bool
RabitqIsDistributedShell(Oid relid)
{
	Oid			catalog = get_relname_relid(CITUS_PARTITION_CATALOG, PG_CATALOG_NAMESPACE);
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	bool		found;

	if (!OidIsValid(catalog))
		return false;
	rel = table_open(catalog, AccessShareLock);
	ScanKeyInit(&key, CITUS_LOGICALRELID_ATTNO, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}
