package org.libgptq;

import java.util.Collection;

/** Moves token lists and string lists across the native boundary. */
final class Tokens {
    private Tokens() {}

    /** Copies a native token list into an int[] and frees it. */
    static int[] take(SWIGTYPE_p_gptqb_ints ints) {
        try {
            int[] out = new int[gptq.ints_count(ints)];
            gptq.ints_copy(ints, out);
            return out;
        } finally {
            gptq.ints_free(ints);
        }
    }

    interface StringsCall<R> {
        R apply(SWIGTYPE_p_gptqb_strings strings);
    }

    /** Runs a call with the strings as a native list. */
    static <R> R withStrings(Collection<String> strings, StringsCall<R> call) {
        SWIGTYPE_p_gptqb_strings list = gptq.strings_new();
        try {
            for (String s : strings) gptq.strings_add(list, s);
            return call.apply(list);
        } finally {
            gptq.strings_free(list);
        }
    }
}
