// The chat view's state: what it shows (the conversation, its answer slots, the bubbles mounted for live streams).
// Streams themselves are the store's (../store.js).

/** How long a deleted conversation can be brought back (ms); the server deletes it after that. */
export const UNDO_MS = 6000;

export const state = {
  conversations: [],   // newest first, as the server lists them
  currentId: null,     // selected conversation; null for a new chat
  newChatKey: 1,       // names the "new chat" page, so a turn started there can claim its conversation
  loadToken: 0,        // discards stale message loads when the user clicks quickly
  mounted: new Map(),  // stream state -> AnswerBubble shown in the message pane
  slots: new Map(),    // user message id -> AnswerSlot (the versions of its answer) in the message pane
  failed: [],          // turns that could not be sent: {message, conversationId, newChatKey, error, network}
  deleting: new Map(), // conversation id -> {conversation, timer} while its Undo is offered
  optimizing: null,    // {stream, draft} while "Optimize prompt" streams into the input
  older: null,         // `before` of the page of messages older than those shown, or null when all are shown
};
