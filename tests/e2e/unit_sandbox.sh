#!/bin/bash
# Runs a command under the [Service] sandbox of a systemd unit file, applied
# without systemd as PID 1: the mount namespace (ProtectSystem=,
# ReadWritePaths=, ProtectHome=, PrivateTmp=, PrivateDevices=, Protect*=),
# the other namespaces (PrivateNetwork=, PrivateIPC=, ProtectHostname=),
# the capability bounding set, no_new_privs, UMask=, and the system call
# filter (SystemCallFilter= expanded by `systemd-analyze syscall-filter`,
# SystemCallErrorNumber=, RestrictAddressFamilies=, MemoryDenyWriteExecute=,
# RestrictNamespaces=, through unit_seccomp).
#
# What only PID 1 can apply is named on stderr and left out: IPAddressDeny=
# and DevicePolicy= (cgroup BPF programs), KeyringMode= (the session
# keyring PID 1 sets up), LockPersonality=, RestrictRealtime= and
# RestrictSUIDSGID= (seccomp rules on arguments the collector never uses).
# A directive this script does not know is an error, so that a setting
# added to the unit is never silently left untested.
#
# usage: unit_sandbox.sh UNIT UNIT_SECCOMP [--read-write PATH]... -- COMMAND [ARG]...
#   UNIT_SECCOMP: the unit_seccomp helper built beside the tests.
#   --read-write: a further ReadWritePaths= entry, as a drop-in would add.
set -euo pipefail

die() { echo "unit_sandbox: $*" >&2; exit 2; }
[ $# -ge 4 ] || die "usage: unit_sandbox.sh UNIT UNIT_SECCOMP [--read-write PATH]... -- COMMAND [ARG]..."
unit=$1 seccomp_helper=$2
shift 2
read_write=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    case $1 in
        --read-write) read_write+=("$2"); shift 2 ;;
        *) die "unknown option $1" ;;
    esac
done
[ "${1:-}" = "--" ] || die "missing -- before the command"
shift

# --- the [Service] section ------------------------------------------------
declare -A one
caps=() filter=() families=()
not_applied=()
in_service=0
while IFS= read -r line || [ -n "$line" ]; do
    case $line in
        '['*) [ "$line" = "[Service]" ] && in_service=1 || in_service=0; continue ;;
        ''|'#'*|';'*) continue ;;
    esac
    [ $in_service = 1 ] || continue
    key=${line%%=*} value=${line#*=}
    case $key in
        Type|ExecStart|ExecReload|Restart|RestartSec|TimeoutStopSec|NotifyAccess) ;;  # service management
        CapabilityBoundingSet) read -r -a words <<< "$value"; caps+=("${words[@]}") ;;
        ReadWritePaths) read -r -a words <<< "$value"; read_write+=("${words[@]}") ;;
        SystemCallFilter) read -r -a words <<< "$value"; filter+=("${words[@]}") ;;
        RestrictAddressFamilies) read -r -a words <<< "$value"; families+=("${words[@]}") ;;
        NoNewPrivileges|ProtectSystem|ProtectHome|PrivateTmp|PrivateDevices|PrivateMounts|ProtectKernelTunables|\
        ProtectKernelModules|ProtectKernelLogs|ProtectControlGroups|ProtectClock|ProtectHostname|ProtectProc|\
        PrivateNetwork|PrivateIPC|RestrictNamespaces|MemoryDenyWriteExecute|SystemCallArchitectures|\
        SystemCallErrorNumber|UMask)
            one[$key]=$value ;;
        IPAddressDeny|DevicePolicy|DeviceAllow|KeyringMode|LockPersonality|RestrictRealtime|RestrictSUIDSGID)
            not_applied+=("$key=$value") ;;
        *) die "$unit: $key= is not applied by this harness; teach it (or say why it cannot be) first" ;;
    esac
done < "$unit"
for setting in "${not_applied[@]}"; do echo "unit_sandbox: needs systemd as PID 1, not applied: $setting" >&2; done

yes() { case ${one[$1]:-no} in yes|true|1|on) return 0 ;; *) return 1 ;; esac; }

# --- namespaces -----------------------------------------------------------
unshare_args=(--mount --propagation slave)
yes PrivateNetwork && unshare_args+=(--net)
yes PrivateIPC && unshare_args+=(--ipc)
yes ProtectHostname && unshare_args+=(--uts)

# --- the system call filter and the capability set, applied last ----------
inner=()
if [ -n "${one[NoNewPrivileges]:-}" ] || [ ${#caps[@]} -gt 0 ]; then
    inner+=(setpriv)
    yes NoNewPrivileges && inner+=(--no-new-privs)
    if [ ${#caps[@]} -gt 0 ]; then
        bounding="-all"
        for c in "${caps[@]}"; do
            c=${c#CAP_}
            bounding+=",+${c,,}"
        done
        inner+=(--bounding-set="$bounding" --inh-caps=-all)
    fi
    inner+=(--)
fi
if [ ${#filter[@]} -gt 0 ] || [ ${#families[@]} -gt 0 ] || yes MemoryDenyWriteExecute || yes RestrictNamespaces; then
    expand() {  # a group or a call, into calls
        case $1 in
            @*) systemd-analyze syscall-filter "$1" | tail -n +2 | sed -e 's/^ *//' -e '/^#/d' -e '/^$/d' |
                    while read -r member; do expand "$member"; done ;;
            *) echo "$1" ;;
        esac
    }
    allowed=$(for f in "${filter[@]}"; do
        case $f in ~*) die "deny-list filters (SystemCallFilter=~...) are not applied by this harness" ;; esac
        expand "$f"
    done | sort -u | paste -sd,)
    inner+=("$seccomp_helper" --errno "${one[SystemCallErrorNumber]:-EPERM}")
    [ ${#filter[@]} -gt 0 ] && inner+=(--allow "$allowed")
    [ ${#families[@]} -gt 0 ] && inner+=(--families "${families[*]}")
    yes MemoryDenyWriteExecute && inner+=(--deny-write-execute)
    yes RestrictNamespaces && inner+=(--deny-namespaces)
    [ "${one[SystemCallArchitectures]:-}" = native ] && inner+=(--native)
    inner+=(--)
fi

# --- the mounts, inside the new namespace ---------------------------------
setup=$(cat <<'SETUP'
set -euo pipefail
# Scratch space: the private /tmp (PrivateTmp=yes is required for it).
[ "$PRIVATE_TMP" = 1 ] || { echo "unit_sandbox: needs PrivateTmp=yes for its scratch space" >&2; exit 2; }
# The harness's own directories under /tmp (a build tree or test directory
# there, as in a CI clone) stay at their paths inside the private /tmp.
keep=()
for p in $KEEP; do case $p in /tmp/?*) keep+=("$p") ;; esac; done
[ ${#keep[@]} -gt 0 ] && mount --bind /tmp /mnt
mount -t tmpfs -o mode=1777,nosuid,nodev private-tmp /tmp
for p in "${keep[@]}"; do
    mkdir -p "$p"
    mount --bind "/mnt/${p#/tmp/}" "$p"
done
[ ${#keep[@]} -gt 0 ] && umount -l /mnt
mount -t tmpfs -o mode=1777,nosuid,nodev private-tmp /var/tmp
scratch=/tmp/.unit-sandbox
mkdir -m 0700 $scratch
: > $scratch/nothing
chmod 000 $scratch/nothing
inaccessible() {  # an empty, mode 000 tmpfs over a directory, an empty mode 000 file over a file
    [ -e "$1" ] || return 0
    if [ -d "$1" ]; then mount -t tmpfs -o ro,mode=000,size=4k,nosuid,nodev,noexec inaccessible "$1"
    else mount --bind $scratch/nothing "$1"; fi
}
read_only() {  # a mount point, or a path made one first
    [ -e "$1" ] || return 0
    mount -o remount,bind,ro "$1" 2>/dev/null || { mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"; }
}
if [ "$PRIVATE_DEVICES" = 1 ]; then
    mkdir $scratch/dev
    mount -t tmpfs -o mode=755,nosuid,noexec private-dev $scratch/dev
    for d in null zero full random urandom tty; do
        : > $scratch/dev/$d
        mount --bind /dev/$d $scratch/dev/$d
    done
    mkdir $scratch/dev/pts $scratch/dev/shm
    mount --bind /dev/pts $scratch/dev/pts
    mount --bind /dev/shm $scratch/dev/shm
    ln -s pts/ptmx $scratch/dev/ptmx
    ln -s /proc/self/fd $scratch/dev/fd
    ln -s /proc/self/fd/0 $scratch/dev/stdin
    ln -s /proc/self/fd/1 $scratch/dev/stdout
    ln -s /proc/self/fd/2 $scratch/dev/stderr
    [ -e /dev/log ] && ln -s /run/systemd/journal/dev-log $scratch/dev/log
    mount --move $scratch/dev /dev
fi
if [ -n "$PROTECT_PROC" ] && [ "$PROTECT_PROC" != default ]; then
    mount -t proc -o "hidepid=$PROTECT_PROC" proc /proc
fi
case $PROTECT_HOME in
    yes|true) for d in /home /root /run/user; do inaccessible "$d"; done ;;
    read-only) for d in /home /root /run/user; do read_only "$d"; done ;;
esac
# The paths that stay writable become mounts of their own first.
rw=()
for p in $READ_WRITE; do
    optional=0
    case $p in -*) optional=1; p=${p#-} ;; esac
    if [ ! -e "$p" ]; then [ $optional = 1 ] && continue; echo "unit_sandbox: $p: missing" >&2; exit 2; fi
    mount --bind "$p" "$p"
    rw+=("$p")
done
writable() { for p in "${rw[@]}"; do case $1/ in "$p"/*) return 0 ;; esac; done; return 1; }
case $PROTECT_SYSTEM in
    strict)
        # Everything but /dev, /proc, /sys (their own settings below) and the writable paths.
        findmnt -rn -o TARGET | while read -r m; do
            m=$(printf '%b' "$m")
            case $m in /dev|/dev/*|/proc|/proc/*|/sys|/sys/*|/tmp|/tmp/*|/var/tmp) continue ;; esac
            writable "$m" && continue
            mount -o remount,bind,ro "$m" 2>/dev/null || true
        done ;;
    full|yes|true)
        for d in /usr /boot /efi /etc; do read_only "$d"; done ;;
esac
if [ "$KERNEL_TUNABLES" = 1 ]; then
    for p in /proc/sys /proc/sysrq-trigger /proc/latency_stats /proc/acpi /proc/timer_stats /proc/asound /proc/bus \
             /proc/fs /proc/irq /sys; do read_only "$p"; done
fi
[ "$KERNEL_MODULES" = 1 ] && { inaccessible /lib/modules; inaccessible /usr/lib/modules; }
[ "$KERNEL_LOGS" = 1 ] && { inaccessible /proc/kmsg; inaccessible /dev/kmsg; }
[ "$CONTROL_GROUPS" = 1 ] && read_only /sys/fs/cgroup
umask "$UMASK"
exec "$@"
SETUP
)

flag() { yes "$1" && echo 1 || echo 0; }
export PRIVATE_TMP=$(flag PrivateTmp) PRIVATE_DEVICES=$(flag PrivateDevices) KERNEL_TUNABLES=$(flag ProtectKernelTunables)
export KERNEL_MODULES=$(flag ProtectKernelModules) KERNEL_LOGS=$(flag ProtectKernelLogs)
export CONTROL_GROUPS=$(flag ProtectControlGroups) PROTECT_PROC=${one[ProtectProc]:-default}
export PROTECT_HOME=${one[ProtectHome]:-no} PROTECT_SYSTEM=${one[ProtectSystem]:-no} UMASK=${one[UMask]:-0022}
export READ_WRITE="${read_write[*]}"
keep=("$(dirname "$seccomp_helper")")
case $1 in /*) keep+=("$(dirname "$1")") ;; esac
for p in "${read_write[@]}"; do keep+=("${p#-}"); done
export KEEP="${keep[*]}"
exec unshare "${unshare_args[@]}" -- bash -c "$setup" unit-sandbox "${inner[@]}" "$@"
