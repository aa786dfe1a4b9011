# SPDX-License-Identifier: BSD-3-Clause
# INTERFACE target carrying parot's own warning flags; never propagated to consumers.
add_library(parot_warnings INTERFACE)
target_compile_options(parot_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                       $<$<BOOL:${PAROT_WERROR}>:-Werror>)
