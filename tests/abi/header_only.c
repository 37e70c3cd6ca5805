/* gptq.h must compile alone as strict C99. */
#include "gptq.h"
