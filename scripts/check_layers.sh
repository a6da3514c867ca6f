#!/bin/sh
# Fails when a file under src/ includes a folder its layer may not see.
# The graph ("folder: folders it may include", one line per folder) is the
# one src/CMakeLists.txt writes into the build tree, so this check and the
# build agree. Headers are checked too: a header no .cpp of its own layer
# compiles would otherwise slip past the build.
#   check_layers.sh GRAPH SRC_DIR
set -eu
graph=$1
src=$2
status=0
for dir in "$src"/*/; do
    folder=$(basename "$dir")
    allowed=$(sed -n "s/^$folder: //p" "$graph")
    if [ -z "$allowed" ]; then
        echo "check_layers: $folder/ is not a layer in $graph (add it to src/CMakeLists.txt)" >&2
        status=1
        continue
    fi
    # Subfolders (tools/ctl/) belong to their folder's layer.
    for file in $(find "$dir" -type f | sort); do
        # Project includes are "folder/file.h"; <...> ones are libraries.
        for included in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\)\/.*/\1/p' "$file" | sort -u); do
            case " $allowed " in
                *" $included "*) ;;
                *)
                    echo "check_layers: ${file#"$src"/} includes $included/, which the $folder layer may not see (it sees: $allowed)" >&2
                    status=1
                    ;;
            esac
        done
    done
done
[ "$status" -eq 0 ] && echo "check_layers: every include follows the layers"
exit "$status"
