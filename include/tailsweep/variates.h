/* placeholder until the module lands */
#ifndef TAILSWEEP_VARIATES_H
#define TAILSWEEP_VARIATES_H
#endif
