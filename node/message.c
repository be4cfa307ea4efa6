/* msgpack message buffers and error replies. */
#include "message.h"

#include "clock.h"
#include "envelope.h"

void message_init(message_t *message)
{
    msgpack_sbuffer_init(&message->buffer);
    msgpack_packer_init(&message->pk, &message->buffer, msgpack_sbuffer_write);
}

zframe_t *message_to_frame(message_t *message)
{
    zframe_t *frame = zframe_new(message->buffer.data, message->buffer.size);
    msgpack_sbuffer_destroy(&message->buffer);
    return frame;
}

void message_discard(message_t *message)
{
    msgpack_sbuffer_destroy(&message->buffer);
}

zframe_t *message_error(const char *type, const uint8_t id[16],
                        const char *status, const char *reason,
                        const char *error)
{
    static const uint8_t no_id[ENVELOPE_ID_SIZE] = {0};
    message_t message;
    message_init(&message);
    envelope_pack_header(&message.pk, reason ? 7 : 6, type, id ? id : no_id,
                         clock_now_ms());
    mp_pack_kv_str(&message.pk, "status", status);
    mp_pack_kv_str(&message.pk, "error", error);
    if (reason)
        mp_pack_kv_str(&message.pk, "reason", reason);
    return message_to_frame(&message);
}
