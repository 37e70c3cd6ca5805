package org.libgptq;

/**
 * One generated token of a stream.
 *
 * @param sequence the prompt's index in the batch
 * @param id the token id
 * @param text the text it completes (may be empty while a multi-byte
 *     character is incomplete)
 * @param finished whether its sequence stopped with this token
 */
public record Token(int sequence, int id, String text, boolean finished) {}
