/*
 * rabitq_handler.c
 *	  The access method's handler, its index options and settings, the
 *	  opclass support functions (which name the metric), build phase names
 *	  and opclass validation.
 */
#include "postgres.h"

#include "access/amapi.h"
#include "access/reloptions.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_type_d.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "utils/catcache.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "rabitq.h"

int			rabitq_probes = 0;
double		rabitq_epsilon = RABITQ_DEFAULT_EPSILON;
double		rabitq_ex_epsilon = RABITQ_DEFAULT_EX_EPSILON;
int			rabitq_iterative_scan = RABITQ_ITERATIVE_ON;
int			rabitq_max_probes = 0;
int			rabitq_exact_limit = 2000;

static relopt_kind rabitq_relopt_kind;

static const struct config_enum_entry iterative_scan_options[] = {
	{"off", RABITQ_ITERATIVE_OFF, false},
	{"on", RABITQ_ITERATIVE_ON, false},
	{NULL, 0, false}
};

/* Registers the rabitq.* settings. */
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
							 "Confidence multiplier of the 1-bit RaBitQ distance bound.",
							 "Larger values refine more candidates and miss fewer rows; "
							 "1.9 leaves about 6% of single bounds violated.",
							 &rabitq_epsilon, RABITQ_DEFAULT_EPSILON, 0.0, RABITQ_MAX_EPSILON,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("rabitq.ex_epsilon",
							 "Confidence multiplier of the refined (multi-bit) distance bound.",
							 "Larger values read more rows from the heap and miss fewer.",
							 &rabitq_ex_epsilon, RABITQ_DEFAULT_EX_EPSILON, 0.0, RABITQ_MAX_EPSILON,
							 PGC_USERSET, 0, NULL, NULL, NULL);
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
	DefineCustomIntVariable("rabitq.exact_limit",
							"Rows of one key a rabitq scan ranks exactly instead of probing lists.",
							"When the scan's conditions fix every key column and the index holds at "
							"most this many rows with those keys, the scan computes all their exact "
							"distances (complete and exactly ordered); 0 turns this off.",
							&rabitq_exact_limit, 2000, 0, 1000000, PGC_USERSET, 0,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("rabitq");
}

/* Registers the index options lists, probes and ex_bits. */
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
	add_int_reloption(rabitq_relopt_kind, "ex_bits",
					  "Bits per dimension of the refining codes beyond the 1-bit code (0: none)",
					  RABITQ_DEFAULT_EX_BITS, 0, RABITQ_MAX_EX_BITS, AccessExclusiveLock);
}

bytea *
rabitqoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"lists", RELOPT_TYPE_INT, offsetof(RabitqOptions, lists)},
		{"probes", RELOPT_TYPE_INT, offsetof(RabitqOptions, probes)},
		{"ex_bits", RELOPT_TYPE_INT, offsetof(RabitqOptions, ex_bits)},
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

/* Whether opfamily has support function procnum, or an operator of strategy for lefttype. */
static bool
FamilyHas(Oid opfamily, int cacheid, int16 number, Oid lefttype)
{
	CatCList   *members = SearchSysCacheList1(cacheid, ObjectIdGetDatum(opfamily));
	bool		found = false;

	for (int i = 0; i < members->n_members && !found; i++)
	{
		HeapTuple	tup = &members->members[i]->tuple;

		if (cacheid == AMPROCNUM)
			found = ((Form_pg_amproc) GETSTRUCT(tup))->amprocnum == number;
		else
			found = ((Form_pg_amop) GETSTRUCT(tup))->amopstrategy == number &&
				((Form_pg_amop) GETSTRUCT(tup))->amoplefttype == lefttype;
	}
	ReleaseCatCacheList(members);
	return found;
}

/*
 * A vector opclass names its metric through support function 1; a key
 * opclass is for uuid, an integer type or text and has `=` as strategy 2.
 */
bool
rabitqvalidate(Oid opclassoid)
{
	HeapTuple	tup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	Form_pg_opclass form;
	bool		valid;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	form = (Form_pg_opclass) GETSTRUCT(tup);
	if (FamilyHas(form->opcfamily, AMPROCNUM, RABITQ_METRIC_PROC, InvalidOid))
		valid = true;
	else
		valid = (form->opcintype == UUIDOID || form->opcintype == INT2OID ||
				 form->opcintype == INT4OID || form->opcintype == INT8OID ||
				 form->opcintype == TEXTOID) &&
			FamilyHas(form->opcfamily, AMOPSTRATEGY, RABITQ_KEY_EQUAL_STRATEGY, form->opcintype);
	if (!valid)
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("rabitq operator class \"%s\" is neither a vector class with support function %d "
						"nor an equality class for uuid, integer or text",
						NameStr(form->opcname), RABITQ_METRIC_PROC)));
	ReleaseSysCache(tup);
	return valid;
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
	am->amcanmulticol = true;	/* key columns (doc/DESIGN.md 7) */
	am->amoptionalkey = true;	/* scans without key conditions see every row */
	am->amsearcharray = true;	/* owner = ANY(...) as an index condition */
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

/* The same for pgvector's halfvec (vecrabitq_pgvector): the metric, and half floats. */
PG_FUNCTION_INFO_V1(rabitq_support_l2_half);
Datum
rabitq_support_l2_half(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(RQ_METRIC_L2 | RABITQ_HALF);
}

PG_FUNCTION_INFO_V1(rabitq_support_ip_half);
Datum
rabitq_support_ip_half(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(RQ_METRIC_IP | RABITQ_HALF);
}

PG_FUNCTION_INFO_V1(rabitq_support_cosine_half);
Datum
rabitq_support_cosine_half(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(RQ_METRIC_COSINE | RABITQ_HALF);
}
