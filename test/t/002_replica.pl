# A streaming standby answers rabitq queries with the same rows as the primary
# after the build, after inserts, after deletes + VACUUM, after REINDEX INDEX
# CONCURRENTLY, and for a tenant key index; the primary runs
# with wal_consistency_checking = 'generic', so the standby checks every
# replayed index page against the primary's image.  The standby is promoted
# and takes inserts.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More tests => 10;

my $gen = "$ENV{VECRABITQ_BUILD}/tools/gen_vectors";
my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "wal_consistency_checking = 'generic'");
$primary->start;
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# the nearest 10 rows of 25 queries, as one text value to compare
my $answers = q{
	SET enable_seqscan = off;
	SET rabitq.probes = 4;
	SELECT string_agg(ids, ';' ORDER BY qid) FROM (
		SELECT q.id AS qid, (SELECT string_agg(id::text, ',') FROM (
			SELECT id FROM items ORDER BY v <-> q.v LIMIT 10) s) AS ids
		FROM queries q) a;
};

sub same_answers
{
	my ($what) = @_;
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
	my $p = $primary->safe_psql('postgres', $answers);
	my $s = $standby->safe_psql('postgres', $answers);
	ok(length($p) > 100 && $p eq $s, "standby answers like the primary $what");
}

$primary->safe_psql('postgres', qq{
	CREATE EXTENSION vecrabitq;
	CREATE TABLE items (id int PRIMARY KEY, v vector(48));
	CREATE TABLE queries (id int, v vector(48));
	COPY items FROM PROGRAM '$gen 48 6000 11';
	COPY queries FROM PROGRAM '$gen 48 25 11 900000';
	CREATE INDEX items_v ON items USING rabitq (v) WITH (lists = 16);
});
same_answers('after the build');

$primary->safe_psql('postgres', qq{COPY items FROM PROGRAM '$gen 48 3000 11 100000'});
same_answers('after 3,000 inserts');

$primary->safe_psql('postgres', q{DELETE FROM items WHERE id % 3 = 0; VACUUM items;});
$primary->safe_psql('postgres', qq{COPY items FROM PROGRAM '$gen 48 2000 11 200000'});
same_answers('after deletes, VACUUM and inserts into freed lanes');

$primary->safe_psql('postgres', 'REINDEX INDEX CONCURRENTLY items_v');
same_answers('after REINDEX INDEX CONCURRENTLY');
is($primary->safe_psql('postgres', q{SELECT rabitq_index_check('items_v') > 0}), 't',
	'the primary\'s index checks out');

# a tenant key index: the standby ranks a key's rows exactly as the primary
$primary->safe_psql('postgres', q{
	ALTER TABLE items ADD COLUMN owner int;
	UPDATE items SET owner = id % 50;
	CREATE INDEX items_ov ON items USING rabitq (owner, v) WITH (lists = 16);
});
my $tenant = q{SET enable_seqscan = off;
	SELECT string_agg(id::text, ',') FROM (SELECT id FROM items WHERE owner = 7
	ORDER BY v <-> (SELECT v FROM queries WHERE id = 900001) LIMIT 10) s};
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
my $pt = $primary->safe_psql('postgres', $tenant);
is($standby->safe_psql('postgres', $tenant), $pt, 'the standby answers a key condition like the primary');
like($pt, qr/^(\d+,){9}\d+$/, 'ten rows');

$primary->safe_psql('postgres', 'CHECKPOINT');
$standby->safe_psql('postgres', 'CHECKPOINT');
same_answers('after checkpoints');

my $log = slurp_file($standby->logfile);
unlike($log, qr/inconsistent page found/, 'no inconsistent page reported by WAL consistency checking');

# promotion: the former standby takes writes and finds them
$standby->promote;
$standby->safe_psql('postgres', q{INSERT INTO items SELECT 999999, v FROM queries WHERE id = 900000});
my $found = $standby->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT id FROM items ORDER BY v <-> (SELECT v FROM queries WHERE id = 900000) LIMIT 1;
});
is($found, '999999', 'the promoted standby indexes new rows');

$standby->stop;
$primary->stop;
