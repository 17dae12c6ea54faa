package io.sluice.providers.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import jakarta.json.Json;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ChatChunksTest {

    private static ChatChunk chunk(String json) {
        return ChatChunks.parse(json.replace('\'', '"'));
    }

    @Test
    void plainContent() {
        ChatChunk c = chunk("{'id':'x','object':'chat.completion.chunk','model':'m1',"
                + "'choices':[{'index':0,'delta':{'content':'Hello'},'finish_reason':null}]}");
        assertEquals(new ChatChunk("Hello", null, null, null, "m1", null), c);
    }

    @Test
    void reasoningContent() {
        ChatChunk c = chunk("{'choices':[{'index':0,'delta':{'content':null,'reasoning_content':'We think'}}]}");
        assertNull(c.content());
        assertEquals("We think", c.reasoning());
    }

    @Test
    void reasoningField() {
        ChatChunk c = chunk("{'choices':[{'index':0,'delta':{'role':'assistant','content':'','reasoning':'Hmm'}}]}");
        assertNull(c.content());
        assertEquals("Hmm", c.reasoning());
    }

    @Test
    void reasoningContentPreferredOverReasoning() {
        assertEquals("A", chunk("{'choices':[{'delta':{'reasoning':'B','reasoning_content':'A'}}]}").reasoning());
        assertEquals("B", chunk("{'choices':[{'delta':{'reasoning':'B','reasoning_content':''}}]}").reasoning());
        assertEquals("B", chunk("{'choices':[{'delta':{'reasoning_content':null,'reasoning':'B'}}]}").reasoning());
    }

    @Test
    void explicitNulls() {
        ChatChunk c = chunk("{'model':null,'choices':[{'index':0,'delta':{'role':null,'content':null,"
                + "'reasoning_content':null,'reasoning':null},'finish_reason':null,'logprobs':null}],'usage':null}");
        assertEquals(new ChatChunk(null, null, null, null, null, null), c);
    }

    @Test
    void emptyStringsBecomeNull() {
        ChatChunk c = chunk("{'choices':[{'index':0,'delta':{'role':'assistant','content':'','reasoning_content':''},"
                + "'finish_reason':''}]}");
        assertEquals(new ChatChunk(null, null, null, null, null, null), c);
    }

    @Test
    void emptyDeltaFinishChunk() {
        ChatChunk c = chunk("{'choices':[{'index':0,'delta':{},'logprobs':null,'finish_reason':'stop'}],"
                + "'x_groq':{'id':'req_1','usage':{'queue_time':0.04}}}");
        assertEquals(new ChatChunk(null, null, "stop", null, null, null), c);
    }

    @Test
    void finishReasonLength() {
        assertEquals("length", chunk("{'choices':[{'delta':{'content':'x'},'finish_reason':'length'}]}").finishReason());
    }

    @Test
    void usageOnlyChunk() {
        ChatChunk c = chunk("{'id':'x','choices':[],'usage':{'prompt_tokens':3,'completion_tokens':4,'total_tokens':7},"
                + "'obfuscation':'abc'}");
        assertNull(c.content());
        assertNull(c.finishReason());
        assertEquals(Json.createObjectBuilder().add("prompt_tokens", 3).add("completion_tokens", 4)
                .add("total_tokens", 7).build(), c.usage());
    }

    @Test
    void usageOnFinishChunk() {
        ChatChunk c = chunk("{'choices':[{'index':0,'delta':{'content':'','reasoning_content':null},"
                + "'finish_reason':'stop'}],'usage':{'prompt_tokens':18,'completion_tokens_details':{'reasoning_tokens':5}}}");
        assertEquals("stop", c.finishReason());
        assertEquals(18, c.usage().getInt("prompt_tokens"));
    }

    @Test
    void usageAbsentOrNullOrNotAnObject() {
        assertNull(chunk("{'choices':[{'delta':{'content':'a'}}]}").usage());
        assertNull(chunk("{'choices':[{'delta':{'content':'a'}}],'usage':null}").usage());
        assertNull(chunk("{'choices':[{'delta':{'content':'a'}}],'usage':5}").usage());
    }

    @Test
    void unknownFieldsAndKeyOrder() {
        ChatChunk c = chunk("{'obfuscation':'Qx','service_tier':'default','choices':[{'logprobs':{'content':[]},"
                + "'finish_reason':null,'native_finish_reason':null,'delta':{'refusal':null,'tool_calls':[],"
                + "'content':'Hi','role':'assistant','extra':{'deep':[1,2,{'x':null}]}},'index':0}],"
                + "'x_groq':{'id':'r'},'system_fingerprint':null,'model':'m2','created':1,'usage':null}");
        assertEquals(new ChatChunk("Hi", null, null, null, "m2", null), c);
    }

    @Test
    void noDeltaOrNullDelta() {
        assertEquals(new ChatChunk(null, null, "stop", null, null, null),
                chunk("{'choices':[{'index':0,'finish_reason':'stop'}]}"));
        assertEquals(new ChatChunk(null, null, null, null, null, null),
                chunk("{'choices':[{'index':0,'delta':null}]}"));
        assertEquals(new ChatChunk(null, null, null, null, null, null), chunk("{'choices':null}"));
        assertEquals(new ChatChunk(null, null, null, null, null, null), chunk("{}"));
    }

    @Test
    void onlyTheFirstChoiceIsRead() {
        ChatChunk c = chunk("{'choices':[{'index':1,'delta':{'content':'other'}},{'index':0,'delta':{'content':'mine'}}]}");
        assertEquals("mine", c.content());
        assertNull(chunk("{'choices':[{'index':1,'delta':{'content':'other'}}]}").content());
    }

    @Test
    void contentParts() {
        ChatChunk c = chunk("{'choices':[{'delta':{'content':[{'type':'thinking','thinking':[{'type':'text',"
                + "'text':'Let me see'}]},{'type':'text','text':'Answer'}]}}]}");
        assertEquals("Answer", c.content());
        assertEquals("Let me see", c.reasoning());
    }

    @Test
    void unicodeAndEscapes() {
        ChatChunk c = ChatChunks.parse("{\"choices\":[{\"delta\":{\"content\":\"\\ud83d\\ude00 日本 \\\"q\\\" \\\\ \\n\"}}]}");
        assertEquals("😀 日本 \"q\" \\ \n", c.content());
    }

    @Test
    void errorObject() {
        ChatChunk c = chunk("{'error':{'message':'Rate limit reached','type':'rate_limit_error','code':null}}");
        assertEquals("Rate limit reached", c.error());
        assertNull(c.content());
    }

    @Test
    void errorString() {
        assertEquals("overloaded", chunk("{'error':'overloaded'}").error());
    }

    @Test
    void errorWithoutMessage() {
        assertEquals("server_error", chunk("{'error':{'type':'server_error'}}").error());
        assertFalse(chunk("{'error':{}}").error().isBlank());
    }

    @Test
    void errorNullIsNoError() {
        assertNull(chunk("{'error':null,'choices':[{'delta':{'content':'a'}}]}").error());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "not json", "{", "{\"choices\":[", "[1,2]", "\"text\"", "42", "null",
            "{\"choices\":{}}", "{\"choices\":\"x\"}", "{\"choices\":5}", "{\"a\":1} {\"b\":2}", "[DONE]"})
    void unparseable(String json) {
        UpstreamException e = assertThrows(UpstreamException.class, () -> ChatChunks.parse(json));
        assertEquals(FailureCode.UPSTREAM_PROTOCOL, e.code());
        assertEquals("upstream sent an unparseable chunk", e.getMessage());
    }

    @Test
    void rawTextIsNeverInTheMessage() {
        UpstreamException e = assertThrows(UpstreamException.class, () -> ChatChunks.parse("{\"secret-token-123\""));
        assertFalse(e.getMessage().contains("secret"));
    }
}
