/*
 * rabitq_handler.c
 *	  The access method's handler, its index options and settings, the
 *	  opclass support functions (which name the metric), build phase names
 *	  and opclass validation.
 */
#include "postgres.h"

#include "access/amapi.h"
#include "access/reloptions.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "utils/catcache.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "rabitq.h"

int			rabitq_probes = 0;
double		rabitq_epsilon = 1.9;
int			rabitq_iterative_scan = RABITQ_ITERATIVE_ON;
int			rabitq_max_probes = 0;

static relopt_kind rabitq_relopt_kind;

static const struct config_enum_entry iterative_scan_options[] = {
	{"off", RABITQ_ITERATIVE_OFF, false},
	{"on", RABITQ_ITERATIVE_ON, false},
	{NULL, 0, false}
};

/* Registers rabitq.probes, rabitq.epsilon, rabitq.iterative_scan, rabitq.max_probes. */
void
RabitqInitGucs(void)
{
	DefineCustomIntVariable("rabitq.probes",
							"Lists a rabitq scan probes first.",
							"0 means the index's probes option, or when that is not set 2 * sqrt(lists) "
							"(3 * sqrt(lists) for inner product).",
							&rabitq_probes, 0, 0, RABITQ_MAX_PROBES, PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomRealVariable("rabitq.epsilon",
							 "Confidence multiplier of the RaBitQ distance bound.",
							 "Larger values compute more exact distances and miss fewer rows; "
							 "1.9 leaves about 6% of single bounds violated.",
							 &rabitq_epsilon, 1.9, 0.0, 4.0, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("rabitq.iterative_scan",
							 "Probe further lists when a scan runs out of rows.",
							 "With on, a query whose filter removes rows still gets LIMIT rows "
							 "when the table has them, probing up to rabitq.max_probes lists.",
							 &rabitq_iterative_scan, RABITQ_ITERATIVE_ON, iterative_scan_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("rabitq.max_probes",
							"Lists an iterative rabitq scan probes at most.",
							"0 means every list.",
							&rabitq_max_probes, 0, 0, RABITQ_MAX_PROBES, PGC_USERSET, 0,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("rabitq");
}

/* Registers the index options lists and probes. */
void
RabitqInitOptions(void)
{
	rabitq_relopt_kind = add_reloption_kind();
	add_int_reloption(rabitq_relopt_kind, "lists",
					  "Number of inverted lists (0: derived from the row count)",
					  0, 0, RABITQ_MAX_LISTS, AccessExclusiveLock);
	add_int_reloption(rabitq_relopt_kind, "probes",
					  "Lists probed by default (0: derived from the list count)",
					  0, 0, RABITQ_MAX_PROBES, ShareUpdateExclusiveLock);
}

bytea *
rabitqoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"lists", RELOPT_TYPE_INT, offsetof(RabitqOptions, lists)},
		{"probes", RELOPT_TYPE_INT, offsetof(RabitqOptions, probes)},
	};

	return (bytea *) build_reloptions(reloptions, validate, rabitq_relopt_kind,
									  sizeof(RabitqOptions), tab, lengthof(tab));
}

char *
rabitqbuildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case RABITQ_PHASE_SAMPLE:
			return "sampling table";
		case RABITQ_PHASE_KMEANS:
			return "performing k-means";
		case RABITQ_PHASE_LOAD:
			return "assigning and quantizing rows";
		default:
			return NULL;
	}
}

/* Every opclass must name its metric through support function 1. */
bool
rabitqvalidate(Oid opclassoid)
{
	HeapTuple	tup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	Form_pg_opclass form;
	CatCList   *procs;
	bool		found = false;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	form = (Form_pg_opclass) GETSTRUCT(tup);
	procs = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(form->opcfamily));
	for (int i = 0; i < procs->n_members; i++)
	{
		Form_pg_amproc proc = (Form_pg_amproc) GETSTRUCT(&procs->members[i]->tuple);

		found |= (proc->amprocnum == RABITQ_METRIC_PROC);
	}
	ReleaseCatCacheList(procs);
	ReleaseSysCache(tup);
	if (!found)
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("rabitq operator class %u lacks support function %d (the metric)",
						opclassoid, RABITQ_METRIC_PROC)));
	return found;
}

PG_FUNCTION_INFO_V1(rabitq_handler);
Datum
rabitq_handler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 0;
	am->amsupport = RABITQ_NPROCS;
	am->amoptsprocnum = 0;
	am->amcanorder = false;
	am->amcanorderbyop = true;
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = false;
	am->amoptionalkey = true;
	am->amsearcharray = false;
	am->amsearchnulls = false;
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	am->amcaninclude = false;
	am->amusemaintenanceworkmem = false;
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	am->amkeytype = InvalidOid;

	am->ambuild = rabitqbuild;
	am->ambuildempty = rabitqbuildempty;
	am->aminsert = rabitqinsert;
	am->ambulkdelete = rabitqbulkdelete;
	am->amvacuumcleanup = rabitqvacuumcleanup;
	am->amcanreturn = NULL;
	am->amcostestimate = rabitqcostestimate;
	am->amoptions = rabitqoptions;
	am->amproperty = NULL;
	am->ambuildphasename = rabitqbuildphasename;
	am->amvalidate = rabitqvalidate;
	am->amadjustmembers = NULL;
	am->ambeginscan = rabitqbeginscan;
	am->amrescan = rabitqrescan;
	am->amgettuple = rabitqgettuple;
	am->amgetbitmap = NULL;
	am->amendscan = rabitqendscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;
	PG_RETURN_POINTER(am);
}

/* Support function 1 of each operator class: the metric it orders by. */
PG_FUNCTION_INFO_V1(rabitq_support_l2);
Datum
rabitq_support_l2(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(RQ_METRIC_L2);
}

PG_FUNCTION_INFO_V1(rabitq_support_ip);
Datum
rabitq_support_ip(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(RQ_METRIC_IP);
}

PG_FUNCTION_INFO_V1(rabitq_support_cosine);
Datum
rabitq_support_cosine(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(RQ_METRIC_COSINE);
}
