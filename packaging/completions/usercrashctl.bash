# bash completion for usercrashctl and crashlogctl           -*- shell-script -*-
# Commands, their options, and the reports (slot names and ids) for info,
# debug and gdb.

_usercrashctl_slots() {
    # The reports this user may read, from the list's JSON: slot names
    # ("slot": "usercrash_07") and report ids ("id": "<uuid>").
    "$@" list --json 2>/dev/null |
        sed -n -e 's/^ *"slot": "\(usercrash_[0-9]*\)",*$/\1/p' -e 's/^ *"id": "\([0-9a-f-]\{36\}\)",*$/\1/p'
}

_usercrashctl() {
    local cur prev words cword
    _init_completion || return

    local commands="enable disable status is-active list info debug gdb dump analyze clean symbolize help"
    local globals="--config --help --version --utc --no-pager --color=auto --color=always --color=never"
    local command="" i
    local -a ctl=("${words[0]}")
    for ((i = 1; i < cword; i++)); do
        case "${words[i]}" in
            -c | --config) ctl+=(--config "${words[i + 1]}"); ((i++)) ;;
            --config=*) ctl+=("${words[i]}") ;;
            -*) ;;
            *) [[ -z "$command" ]] && command="${words[i]}" ;;
        esac
    done

    case "$prev" in
        -c | --config | --client | --sysctl-file | --exe | -o | --output)
            _filedir
            return
            ;;
        --debugger)
            COMPREPLY=($(compgen -c -- "$cur"))
            return
            ;;
        -A | --debugger-arguments)
            return
            ;;
        --sysroot | --search)
            _filedir -d
            return
            ;;
        --since | --until)
            COMPREPLY=($(compgen -W "today yesterday -30min -1h -2h -1d -7d" -- "$cur"))
            return
            ;;
        --signal)
            COMPREPLY=($(compgen -W "SEGV ABRT BUS FPE ILL TRAP SYS" -- "$cur"))
            return
            ;;
        -F | --field)
            COMPREPLY=($(compgen -W "id exe comm pid uid time signal.name signal.number signal.code_name signal.fault_address abort_message signature slot path core" -- "$cur"))
            return
            ;;
        -n | --lines | --uid | --comm | --signature)
            return
            ;;
        --pid)
            [[ "$command" == list ]] && return
            ;;
        --mode)
            COMPREPLY=($(compgen -W "pipe socket auto" -- "$cur"))
            return
            ;;
        --older-than)
            COMPREPLY=($(compgen -W "30m 12h 1d 7d 30d" -- "$cur"))
            return
            ;;
    esac

    if [[ -z "$command" ]]; then
        if [[ "$cur" == -* ]]; then
            COMPREPLY=($(compgen -W "$globals" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        fi
        return
    fi

    local options=""
    case "$command" in
        enable) options="--mode --persist --client --sysctl-file" ;;
        disable) options="--force" ;;
        status) options="--json" ;;
        is-active) options="--quiet" ;;
        list) options="-n -r -1 --since --until --json --group -F --pid --uid --comm --exe --signal --signature" ;;
        info) options="--full --json -F --pid" ;;
        debug | gdb) options="--exe --pid --debugger -A" ;;
        dump) options="-o --pid" ;;
        analyze) options="--json --exe --sysroot --search --debuginfod" ;;
        clean) options="--older-than" ;;
        symbolize) options="--text --debug-dir --sysroot --no-system --debuginfod --debuginfod-timeout" ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$options $globals" -- "$cur"))
        return
    fi
    case "$command" in
        info | debug | gdb | dump) COMPREPLY=($(compgen -W "$(_usercrashctl_slots "${ctl[@]}")" -- "$cur")) ;;
        analyze | symbolize) _filedir ;;
    esac
}
complete -F _usercrashctl usercrashctl crashlogctl
