# Every SQL block of README.md runs as written, in order, in psql: blocks
# marked ```sql in one fresh database with vecrabitq's, blocks marked
# ```sql pgvector in another (when pgvector is installed; skipped with that
# reason otherwise).  A block fails on its first error (ON_ERROR_STOP).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

open(my $fh, '<', 'README.md') or die "README.md: $!";
my (@blocks, $cur);
my $line = 0;
while (my $l = <$fh>)
{
	$line++;
	if (!$cur && $l =~ /^```sql(?:\s+(\w+))?\s*$/)
	{
		$cur = { line => $line, kind => $1 // 'vecrabitq', sql => '' };
	}
	elsif ($cur && $l =~ /^```\s*$/)
	{
		push @blocks, $cur;
		undef $cur;
	}
	elsif ($cur)
	{
		$cur->{sql} .= $l;
	}
}
close($fh);
plan tests => scalar(@blocks) + 1;
cmp_ok(scalar(@blocks), '>=', 5, scalar(@blocks) . ' SQL blocks in README.md');

my $node = PostgreSQL::Test::Cluster->new('readme');
$node->init;
$node->start;
my $have_pgvector =
  $node->safe_psql('postgres', q{SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'}) eq '1';
$node->safe_psql('postgres', 'CREATE DATABASE readme; CREATE DATABASE readme_pgvector');
for my $b (@blocks)
{
	my $db = $b->{kind} eq 'pgvector' ? 'readme_pgvector' : 'readme';
  SKIP:
	{
		skip "README block at line $b->{line}: pgvector not installed", 1
		  if $b->{kind} eq 'pgvector' && !$have_pgvector;
		my ($ret, $out, $err) = $node->psql($db, $b->{sql}, extra_params => [ '-v', 'ON_ERROR_STOP=1' ]);
		is($ret, 0, "README block at line $b->{line} ($b->{kind}) runs") or diag($err);
	}
}
$node->stop;
