# bash completion for debugger and usercrash-debugger        -*- shell-script -*-
# Options, and the running processes this user may report.

_usercrash_debugger() {
    local cur prev words cword
    _init_completion || return

    case "$prev" in
        -o | --output | -c | --config)
            _filedir
            return
            ;;
        -t | --threads)
            return
            ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "--json --output --threads --brief --no-memory --all-stop --config --verbose
            --help --version" -- "$cur"))
        return
    fi
    _pids
}
complete -F _usercrash_debugger debugger usercrash-debugger
