/* The experiment registry: one line per experiment, TS_EXPERIMENT(name) for the descriptor
 * `ts_experiment_<name>` defined in src/experiments/<name>.c. Adding an experiment is that file
 * plus one line here (then ./bootstrap, which picks up the new file for the build). */
TS_EXPERIMENT(quadratic)
TS_EXPERIMENT(synthetic)
TS_EXPERIMENT(bigram)
TS_EXPERIMENT(levy_sgd)
TS_EXPERIMENT(two_layer)
TS_EXPERIMENT(convex)
TS_EXPERIMENT(ssi)
