#!/usr/bin/env bash
# CPU by kind of process, for runs whose processes are not all the generator's to sample (the
# cluster): every second, one line per process: epoch, kind, pid, and its CPU so far in clock
# ticks (utime + stime, all threads). Kinds: quiz (Quiz.Server.dll), generator, postgres, redis,
# rabbitmq (beam.smp), nginx. Runs until killed:
#   loadtests/cpu-by-process.sh > cpu.txt & sampler=$!; loadtests/run.sh burst --cluster 3 ...; kill $sampler
#   loadtests/cpu-by-process.sh --sum cpu.txt <from-epoch> <to-epoch>   # CPU seconds by kind over a window
set -euo pipefail
if [ "${1:-}" = --sum ]; then
  hz=$(getconf CLK_TCK)
  awk -v from="$3" -v to="$4" -v hz="$hz" '
    $1 <= to { if (!($3 in first) ) { first[$3] = ($1 <= from ? $4 : 0); kind[$3] = $2 } if ($1 <= from) first[$3] = $4; last[$3] = $4 }
    END { for (p in last) cpu[kind[p]] += (last[p] - first[p]) / hz; for (k in cpu) printf "%-10s %8.1f cpu-s\n", k, cpu[k] }' "$2" | sort -k2 -rn
  exit 0
fi
while true; do
  now=$(date +%s.%N)
  for p in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c1-300) || continue
    case "$cmd" in
      *Quiz.Server.dll*) kind=quiz ;;
      *Quiz.LoadTests*) kind=generator ;;
      *postgres*) kind=postgres ;;
      *redis-server*) kind=redis ;;
      *beam.smp*) kind=rabbitmq ;;
      *nginx*) kind=nginx ;;
      *) continue ;;
    esac
    read -r -a stat <"$p/stat" 2>/dev/null || continue
    echo "$now $kind ${p#/proc/} $(( stat[13] + stat[14] ))"
  done
  sleep 1
done
