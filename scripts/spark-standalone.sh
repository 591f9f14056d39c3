#!/usr/bin/env bash
# A one-machine Spark standalone cluster (a master and one worker, on loopback) from PySpark's own jars,
# for checking the cluster path of the Spark engine (PROVISTA_SPARK_MASTER=spark://...) without a cluster:
#
#   scripts/spark-standalone.sh start     # prints the master URL
#   PROVISTA_SPARK_MASTER=spark://127.0.0.1:7177 SPARK_LOCAL_IP=127.0.0.1 .venv/bin/pytest tests/engine
#   scripts/spark-standalone.sh stop
#
# The driver, the master and the worker are separate JVMs here, as on a real cluster: rows and jars travel
# over the network, not within one process as in local mode.
#
# The same for Spark Connect (PROVISTA_SPARK_REMOTE=sc://...): a Spark Connect server (the driver, here on
# local[2]) that Provista's Python process talks to over gRPC, with no JVM of its own:
#
#   scripts/spark-standalone.sh connect-start   # prints the sc:// URL
#   PROVISTA_SPARK_REMOTE=sc://127.0.0.1:15102 .venv/bin/pytest tests/engine
#   scripts/spark-standalone.sh connect-stop
#
# `make test-cluster` does both. Settings: SPARK_STANDALONE_DIR (logs, work; /tmp/provista-spark-standalone),
# SPARK_STANDALONE_PORT (7177), SPARK_WORKER_CORES (2), SPARK_WORKER_MEMORY (3g), SPARK_CONNECT_PORT (15102),
# SPARK_CONNECT_MASTER (local[2]), SPARK_CONNECT_MEMORY (2g).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$here/.venv/bin/python}
SPARK_HOME=$("$python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
export SPARK_HOME SPARK_LOCAL_IP=127.0.0.1
dir=${SPARK_STANDALONE_DIR:-/tmp/provista-spark-standalone}
port=${SPARK_STANDALONE_PORT:-7177}
master="spark://127.0.0.1:$port"

start() {
  mkdir -p "$dir/work"
  nohup "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master --host 127.0.0.1 \
    --port "$port" --webui-port $((port + 1000)) >"$dir/master.log" 2>&1 &
  echo $! >"$dir/master.pid"
  wait_for "$dir/master.log" "I have been elected leader" master
  nohup "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker "$master" \
    --cores "${SPARK_WORKER_CORES:-2}" --memory "${SPARK_WORKER_MEMORY:-3g}" \
    --webui-port $((port + 1001)) --work-dir "$dir/work" >"$dir/worker.log" 2>&1 &
  echo $! >"$dir/worker.pid"
  wait_for "$dir/worker.log" "Successfully registered with master" worker
  echo "$master"
}

connect_start() {
  local port=${SPARK_CONNECT_PORT:-15102}
  mkdir -p "$dir"
  nohup "$SPARK_HOME/bin/spark-submit" --class org.apache.spark.sql.connect.service.SparkConnectServer \
    --name provista-connect --master "${SPARK_CONNECT_MASTER:-local[2]}" \
    --driver-memory "${SPARK_CONNECT_MEMORY:-2g}" \
    --conf spark.connect.grpc.binding.address=127.0.0.1 --conf spark.connect.grpc.binding.port="$port" \
    --conf spark.sql.session.timeZone=UTC --conf spark.sql.ansi.enabled=true \
    --conf spark.sql.warehouse.dir="$dir/connect-catalog" spark-internal >"$dir/connect.log" 2>&1 &
  echo $! >"$dir/connect.pid"
  wait_for "$dir/connect.log" "Spark Connect server started" "Connect server"
  echo "sc://127.0.0.1:$port"
}

wait_for() {  # log, line, what: up to 60 s
  for _ in $(seq 60); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 1
  done
  echo "the Spark $3 did not start in 60 s; its log, $1:" >&2
  tail -20 "$1" >&2
  stop
  exit 1
}

stop() {
  for role in worker master connect; do
    if [ -f "$dir/$role.pid" ]; then
      kill "$(cat "$dir/$role.pid")" 2>/dev/null || true
      rm -f "$dir/$role.pid"
    fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  connect-start) connect_start ;;
  connect-stop) stop ;;
  *) echo "usage: $0 start|stop|connect-start|connect-stop" >&2; exit 2 ;;
esac
