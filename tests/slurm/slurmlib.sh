# A private single-node SLURM on localhost for the tests (sourced; POSIX sh). Everything lives in
# one directory: its own munged (own socket), slurmctld and slurmd on ports of their own, state,
# spool, logs and PMIx temp dirs, so it neither needs nor touches a system SLURM or munge, and
# two test runs on one machine do not collide. slurm_stop stops every daemon it started, by the
# PID in that daemon's pidfile (there is no systemd). The recipe, checked on Debian 12: srun needs
# MpiDefault=pmix (pmi2 fails with Open MPI), config_overrides lets the node claim more CPUs than
# it has, and sacct needs accounting, so jobs are followed with scontrol within MinJobAge.

SLURM_COMMANDS="slurmctld slurmd munged munge sbatch srun scontrol sinfo squeue scancel mpirun"

# Why this machine cannot run a private SLURM (nothing when it can).
slurm_missing() {
    for cmd in $SLURM_COMMANDS; do
        if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
            echo "$cmd is not installed (apt-get install slurm-wlm munge)"
            return
        fi
    done
    if [ "$(id -u)" -ne 0 ]; then
        echo "starting slurmctld, slurmd and munged needs root"
    elif ! id munge >/dev/null 2>&1 || [ ! -r /etc/munge/munge.key ]; then
        echo "no munge user or no /etc/munge/munge.key"
    fi
}

slurm_sbin() { # NAME: the daemon's path (Debian puts them in /usr/sbin, often not on PATH)
    command -v "$1" 2>/dev/null || echo "/usr/sbin/$1"
}

# slurm_start DIR: start munged, slurmctld and slurmd under DIR and wait until the node is idle.
# Exports SLURM_CONF for the clients (and, through sbatch, for the jobs).
slurm_start() {
    SLURM_DIR=$1
    # munged refuses a socket directory that the munge user cannot reach (DIR's parent too).
    mkdir -p "$SLURM_DIR" && chmod 0755 "$SLURM_DIR"
    mkdir -p "$SLURM_DIR/state" "$SLURM_DIR/spool" "$SLURM_DIR/run" "$SLURM_DIR/log" \
        "$SLURM_DIR/tmp"
    install -d -o munge -g munge -m 0755 "$SLURM_DIR/munge"
    SLURM_MUNGE_SOCKET=$SLURM_DIR/munge/munge.socket
    runuser -u munge -- "$(slurm_sbin munged)" --socket="$SLURM_MUNGE_SOCKET" \
        --pid-file="$SLURM_DIR/munge/munged.pid" --log-file="$SLURM_DIR/munge/munged.log" \
        --seed-file="$SLURM_DIR/munge/munged.seed" || return 1
    i=0
    until munge -n --socket="$SLURM_MUNGE_SOCKET" >/dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -lt 50 ] || { echo "munged did not answer"; return 1; }
        sleep 0.1
    done

    host=$(hostname)
    # Ports and job ids from our PID: a second test run on this machine gets its own.
    port=$((20000 + ($$ % 10000) * 2))
    cat > "$SLURM_DIR/slurm.conf" <<EOF
ClusterName=tstest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SLURM_MUNGE_SOCKET
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
TmpFS=$SLURM_DIR/tmp
SlurmctldPidFile=$SLURM_DIR/run/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/run/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.log
FirstJobId=$((1000 + ($$ % 1000) * 1000))
MinJobAge=3600
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
MailProg=/bin/true
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=16 Boards=1 SocketsPerBoard=1 CoresPerSocket=16 ThreadsPerCore=1 RealMemory=20000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    SLURM_CONF=$SLURM_DIR/slurm.conf
    export SLURM_CONF
    "$(slurm_sbin slurmctld)" -f "$SLURM_CONF" || return 1
    "$(slurm_sbin slurmd)" -f "$SLURM_CONF" || return 1
    i=0
    until [ "$(sinfo -h -o %T 2>/dev/null)" = idle ]; do
        i=$((i + 1))
        [ "$i" -lt 150 ] || { echo "the node did not become idle"; return 1; }
        sleep 0.2
    done
}

# Stop the daemon whose pidfile is $1: SIGTERM, then SIGKILL if it lingers.
slurm_stop_pidfile() {
    [ -s "$1" ] || return 0
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || return 0
    i=0
    while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -ge 50 ]; then
            kill -KILL "$pid" 2>/dev/null
            break
        fi
        sleep 0.1
    done
}

# Cancel what still runs (only our cluster: SLURM_CONF is ours), then stop the daemons.
slurm_stop() {
    [ -n "${SLURM_DIR:-}" ] || return 0
    if [ -s "$SLURM_DIR/run/slurmctld.pid" ] && [ -n "$(squeue -h -o %i 2>/dev/null)" ]; then
        scancel --user="$(id -un)" 2>/dev/null
        i=0
        while [ -n "$(squeue -h -o %i 2>/dev/null)" ] && [ "$i" -lt 100 ]; do
            i=$((i + 1))
            sleep 0.1
        done
    fi
    slurm_stop_pidfile "$SLURM_DIR/run/slurmd.pid"
    slurm_stop_pidfile "$SLURM_DIR/run/slurmctld.pid"
    slurm_stop_pidfile "$SLURM_DIR/munge/munged.pid"
}

# submit [sbatch arguments...]: the job id (sbatch --parsable prints "id[;cluster]").
submit() {
    sbatch --parsable "$@" | sed 's/;.*//'
}

# job_field ID FIELD: FIELD=value of the job's (or array's first task's) `scontrol show job`.
job_field() {
    scontrol show job -o "$1" 2>/dev/null | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# release_requeued LINE: start a requeued job (its `scontrol show job -o` LINE) now rather than
# after SLURM's start delay, but not within 3 s of its requeue (SubmitTime is reset then): slurmd
# refuses a job credential created in the second its predecessor was revoked ("Killing
# non-startable batch job: Job credential revoked"), and the job then FAILS for good.
release_requeued() {
    task=$(echo "$1" | tr ' ' '\n' | sed -n 's/^JobId=//p')
    requeued=$(echo "$1" | tr ' ' '\n' | sed -n 's/^SubmitTime=//p')
    requeued=$(date -d "$requeued" +%s 2>/dev/null) || return 0
    if [ $(($(date +%s) - requeued)) -ge 3 ]; then
        scontrol update JobId="$task" StartTime=now
    fi
}

# wait_jobs TIMEOUT ID...: wait until every job (array ids: every task) has ended; a job
# requeued with SLURM's start delay (Reason=BeginTime) is released 3 s after its requeue
# (release_requeued). Prints nothing; returns 1 on timeout.
# COMPLETED is final (a job that requeues itself never completes first); any other ended state
# counts once it has lasted 60 polls, in case a requeue shows one on its way back to PENDING
# (a real failure is reported a minute late).
wait_jobs() {
    deadline=$(($(date +%s) + $1))
    shift
    settled=0
    while :; do
        running=0
        unsettled=0
        for id in "$@"; do
            scontrol show job -o "$id" 2>/dev/null > "$SLURM_DIR/jobs.txt"
            while read -r line; do
                state=$(echo "$line" | tr ' ' '\n' | sed -n 's/^JobState=//p')
                case $state in
                COMPLETED) ;;
                FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | \
                    PREEMPTED) unsettled=1 ;;
                *)
                    running=1
                    case $line in
                    *Reason=BeginTime*) release_requeued "$line" ;;
                    esac
                    ;;
                esac
            done < "$SLURM_DIR/jobs.txt"
        done
        if [ "$running" -eq 1 ]; then settled=0; else settled=$((settled + 1)); fi
        if [ "$running" -eq 0 ] && { [ "$unsettled" -eq 0 ] || [ "$settled" -ge 60 ]; }; then
            return 0
        fi
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 1
    done
}

# job_states ID: the states of the job or of every task of an array, e.g. "COMPLETED COMPLETED"
job_states() {
    scontrol show job -o "$1" 2>/dev/null | tr ' ' '\n' | sed -n 's/^JobState=//p' | tr '\n' ' ' |
        sed 's/ $//'
}
