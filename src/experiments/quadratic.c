/* placeholder until the module lands */
typedef int ts_placeholder_quadratic;
