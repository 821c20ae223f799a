-- Runs one statement, timed, after a checkpoint, and records it in bench.runs:
-- wall time from before the statement to after its commit (fsync on), and the
-- backend's own CPU time and time spent waiting for a CPU (/proc/<pid>/schedstat),
-- which tell how much other jobs on the machine got in the way.
-- psql variables: part, label, run, rows (deliveries it stands for), statement;
-- nocheckpoint (any value) to skip the checkpoint.
\if :{?nocheckpoint}
\else
CHECKPOINT;
\endif
SELECT pg_current_wal_insert_lsn() AS lsn0, pg_read_file('/proc/' || pg_backend_pid() || '/schedstat') AS sched0,
       clock_timestamp() AS t0 \gset
:statement \g /dev/null
SELECT clock_timestamp() AS t1, pg_read_file('/proc/' || pg_backend_pid() || '/schedstat') AS sched1,
       pg_current_wal_insert_lsn() AS lsn1 \gset
INSERT INTO bench.runs (part, label, run, rows, seconds, cpu_seconds, wait_seconds, lsn0, lsn1)
VALUES (:'part', :'label', :run, :rows, extract(epoch FROM :'t1'::timestamptz - :'t0'::timestamptz),
        (split_part(:'sched1', ' ', 1)::bigint - split_part(:'sched0', ' ', 1)::bigint) / 1e9,
        (split_part(:'sched1', ' ', 2)::bigint - split_part(:'sched0', ' ', 2)::bigint) / 1e9,
        :'lsn0', :'lsn1');
