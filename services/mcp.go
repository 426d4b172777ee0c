package services

import (
	"context"
	"encoding/json"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/ctxfs/ctxfs/constructor"
	"github.com/ctxfs/ctxfs/evaluator"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/mcp"
	"github.com/ctxfs/ctxfs/memory"
)

// Tools are the names of the tools RegisterMCP adds.
var Tools = []string{"memory_observe", "memory_recall", "memory_show", "workspace_observe", "workspace_query", "context_build", "context_evaluate"}

func readOnly(title string) []mcpgo.ToolOption {
	return []mcpgo.ToolOption{
		mcpgo.WithTitleAnnotation(title),
		mcpgo.WithReadOnlyHintAnnotation(true), mcpgo.WithDestructiveHintAnnotation(false),
		mcpgo.WithIdempotentHintAnnotation(true), mcpgo.WithOpenWorldHintAnnotation(false),
	}
}

// writing annotates a tool that adds to the store; it never removes what a
// person wrote (old values move to Superseded, observations are appended),
// so it is not destructive.
func writing(title string) []mcpgo.ToolOption {
	return []mcpgo.ToolOption{
		mcpgo.WithTitleAnnotation(title),
		mcpgo.WithReadOnlyHintAnnotation(false), mcpgo.WithDestructiveHintAnnotation(false),
		mcpgo.WithIdempotentHintAnnotation(false), mcpgo.WithOpenWorldHintAnnotation(false),
	}
}

func tool(name, desc string, opts ...[]mcpgo.ToolOption) mcpgo.Tool {
	all := []mcpgo.ToolOption{mcpgo.WithDescription(desc)}
	for _, o := range opts {
		all = append(all, o...)
	}
	return mcpgo.NewTool(name, all...)
}

func budgetArg(desc string, def int) []mcpgo.ToolOption {
	return []mcpgo.ToolOption{mcpgo.WithInteger("budget", mcpgo.Description(desc), mcpgo.DefaultNumber(float64(def)), mcpgo.Min(0), mcpgo.Max(MaxBudget))}
}

func intArg(a mcp.Args, name string) (int, error) {
	n, err := a.OptInt(name, 0)
	return int(n), err
}

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// RegisterMCP adds the service tools to srv (those srv's Options.Tools
// leaves out are skipped). Each call acts as the session's principal, so
// the namespace's access rules apply.
func RegisterMCP(srv *mcp.Server, fsys fs.FS, opts Options) error {
	s := newServices(fsys, opts)

	srv.AddTool(tool("memory_observe",
		"Feed conversation turns to a user's persona memory (/memory/USER/persona.md). First-person statements of preferences, facts, relationships, goals and style are extracted and reconciled: new items are added, restatements merged, contradicted items move to Superseded with their dates; the file stays within its token budget. Returns JSON {path, version, tokens, budget, items, actions}; no actions means nothing new was said.",
		[]mcpgo.ToolOption{
			mcpgo.WithString("user", mcpgo.Required(), mcpgo.Description(`The user whose memory is updated (one path element, e.g. "alice").`)),
			mcpgo.WithArray("turns", mcpgo.Required(), mcpgo.Description("Conversation turns in order; only user turns are read for statements, the others give context."), mcpgo.MinItems(1), mcpgo.Items(map[string]any{
				"type": "object",
				"properties": map[string]any{
					"role":    map[string]any{"type": "string", "description": `"user", "assistant", ...`},
					"content": map[string]any{"type": "string", "description": "What was said."},
					"time":    map[string]any{"type": "string", "description": "When it was said (e.g. 2024-05-07); optional."},
					"id":      map[string]any{"type": "string", "description": "A turn id for provenance (e.g. s1#3); optional."},
				},
				"required": []string{"role", "content"},
			})),
		}, writing("Observe turns into persona memory")), func(ctx context.Context, a mcp.Args) (string, error) {
		user, err := a.String("user")
		if err != nil {
			return "", err
		}
		if !a.Has("turns") {
			return "", invalidf("argument %q is required", "turns")
		}
		var turns []memory.Turn
		if err := a.Decode("turns", &turns); err != nil {
			return "", err
		}
		res, err := s.memoryObserve(ctx, user, turns)
		if err != nil {
			return "", err
		}
		return jsonText(res)
	})

	srv.AddTool(tool("memory_recall",
		"Recall a user's persona memory items relevant to a query within a token budget, most relevant first, each with its provenance (slot, turn, dates). An empty query recalls everything current, most important first. Returns JSON {user, query, path, version, items, text, tokens, budget}; text is ready to put in a prompt.",
		[]mcpgo.ToolOption{
			mcpgo.WithString("user", mcpgo.Required(), mcpgo.Description("The user whose memory is recalled.")),
			mcpgo.WithString("query", mcpgo.Description("What the memory is needed for (e.g. the user's question); empty for everything.")),
		}, budgetArg("Token budget of the recalled text; 0 means the memory's default.", 0), readOnly("Recall persona memory")), func(ctx context.Context, a mcp.Args) (string, error) {
		user, err := a.String("user")
		if err != nil {
			return "", err
		}
		q, err := a.OptString("query", "")
		if err != nil {
			return "", err
		}
		b, err := intArg(a, "budget")
		if err != nil {
			return "", err
		}
		res, err := s.memoryRecall(ctx, user, q, b)
		if err != nil {
			return "", err
		}
		return jsonText(res)
	})

	srv.AddTool(tool("memory_show",
		"Show a user's whole persona memory file (Markdown sections of bullets with {slot | turn | dates} provenance). Returns JSON {user, path, version, text, items}; version 0 and empty text when the user has no memory yet.",
		[]mcpgo.ToolOption{
			mcpgo.WithString("user", mcpgo.Required(), mcpgo.Description("The user whose memory is shown.")),
		}, readOnly("Show persona memory")), func(ctx context.Context, a mcp.Args) (string, error) {
		user, err := a.String("user")
		if err != nil {
			return "", err
		}
		res, err := s.memoryShow(ctx, user)
		if err != nil {
			return "", err
		}
		return jsonText(res)
	})

	srv.AddTool(tool("workspace_observe",
		"Add an observation (a piece of experience: a paragraph, a chapter, a session) to an episodic workspace (/workspace/NAME/). Its actors, roles, states and events with time and place are reconciled into entity files, the timeline and conflicts.md. Returns JSON {observation, id, structure, entities, conflicts}.",
		[]mcpgo.ToolOption{
			mcpgo.WithString("name", mcpgo.Required(), mcpgo.Description("Workspace name (one path element).")),
			mcpgo.WithString("text", mcpgo.Required(), mcpgo.Description("The observation's text.")),
			mcpgo.WithString("time", mcpgo.Description(`When it happened, if known ("May 7, 2024", "2024-05-07").`)),
			mcpgo.WithString("place", mcpgo.Description("Where it happened, if known.")),
			mcpgo.WithString("source", mcpgo.Description(`A label of its origin ("Chapter 3", "session_2").`)),
		}, writing("Observe into a workspace")), func(ctx context.Context, a mcp.Args) (string, error) {
		name, err := a.String("name")
		if err != nil {
			return "", err
		}
		var o WorkspaceObservation
		if o.Text, err = a.String("text"); err != nil {
			return "", err
		}
		if o.Time, err = a.OptString("time", ""); err != nil {
			return "", err
		}
		if o.Place, err = a.OptString("place", ""); err != nil {
			return "", err
		}
		if o.Source, err = a.OptString("source", ""); err != nil {
			return "", err
		}
		res, err := s.workspaceObserve(ctx, name, o)
		if err != nil {
			return "", err
		}
		return jsonText(res)
	})

	srv.AddTool(tool("workspace_query",
		"Answer a question from an episodic workspace: the events that match its cues (people, places, dates, occasions) as context lines within a token budget, each citing its observation. Returns JSON {question, cues, text, tokens, budget, lines, files}; text is ready to put in a prompt.",
		[]mcpgo.ToolOption{
			mcpgo.WithString("name", mcpgo.Required(), mcpgo.Description("Workspace name.")),
			mcpgo.WithString("question", mcpgo.Required(), mcpgo.Description("The question.")),
		}, budgetArg("Token budget of the context; 0 means the workspace default.", 0), readOnly("Query a workspace")), func(ctx context.Context, a mcp.Args) (string, error) {
		name, err := a.String("name")
		if err != nil {
			return "", err
		}
		q, err := a.String("question")
		if err != nil {
			return "", err
		}
		b, err := intArg(a, "budget")
		if err != nil {
			return "", err
		}
		res, err := s.workspaceQuery(ctx, name, q, b)
		if err != nil {
			return "", err
		}
		return jsonText(res)
	})

	srv.AddTool(tool("context_build",
		`Build a context (prompt) for a query within a token budget from sources: files by glob, a user's persona memory, an episodic workspace, a history session, pinned files. The best units are chosen under the budget; a manifest recording every item (path, version, lines) is saved under /history/SESSION/contexts/ so the context can be replayed and evaluated. Returns JSON {prompt, tokens, manifest, saved}.`,
		[]mcpgo.ToolOption{
			mcpgo.WithString("query", mcpgo.Required(), mcpgo.Description("The task or question the context is for.")),
			mcpgo.WithInteger("budget", mcpgo.Required(), mcpgo.Description("Token budget of the prompt."), mcpgo.Min(1), mcpgo.Max(MaxBudget)),
			mcpgo.WithArray("sources", mcpgo.Required(), mcpgo.MinItems(1), mcpgo.Description("Where candidates come from; each source sets exactly one field."), mcpgo.Items(map[string]any{
				"type": "object",
				"properties": map[string]any{
					"glob":      map[string]any{"type": "string", "description": `Path pattern ("/notes/**", "/docs/*.md").`},
					"user":      map[string]any{"type": "string", "description": "A user's persona memory."},
					"workspace": map[string]any{"type": "string", "description": "An episodic workspace."},
					"session":   map[string]any{"type": "string", "description": "A history session's turns."},
					"pin":       map[string]any{"type": "string", "description": "A file that always goes in."},
				},
			})),
			mcpgo.WithString("session", mcpgo.Description(`History session the manifest is saved under (default "default").`)),
			mcpgo.WithBoolean("dry_run", mcpgo.Description("Build without saving the manifest."), mcpgo.DefaultBool(false)),
		}, writing("Build a context")), func(ctx context.Context, a mcp.Args) (string, error) {
		var req constructor.Request
		var err error
		if req.Query, err = a.String("query"); err != nil {
			return "", err
		}
		if !a.Has("budget") {
			return "", invalidf("argument %q is required", "budget")
		}
		if req.Budget, err = intArg(a, "budget"); err != nil {
			return "", err
		}
		if !a.Has("sources") {
			return "", invalidf("argument %q is required", "sources")
		}
		if err := a.Decode("sources", &req.Sources); err != nil {
			return "", err
		}
		if req.Session, err = a.OptString("session", ""); err != nil {
			return "", err
		}
		if req.DryRun, err = a.OptBool("dry_run", false); err != nil {
			return "", err
		}
		res, err := s.contextBuild(ctx, req)
		if err != nil {
			return "", err
		}
		return jsonText(res)
	})

	srv.AddTool(tool("context_evaluate",
		"Evaluate a built context (by its manifest id from context_build) and optionally an answer given from it: the context's items are checked against the current files (changed, missing, budget), the answer's sentences for support by the context and its citations, and the answer against a JSON schema. The evaluation is recorded in the session; weak ones enter the review queue. Returns the evaluation as JSON.",
		[]mcpgo.ToolOption{
			mcpgo.WithString("context_id", mcpgo.Required(), mcpgo.Description("The manifest id returned by context_build (manifest.id).")),
			mcpgo.WithString("answer", mcpgo.Description("An answer to check against the context.")),
			mcpgo.WithObject("schema", mcpgo.Description("A JSON schema the answer must satisfy.")),
			mcpgo.WithString("session", mcpgo.Description("Session to record the evaluation in; default the manifest's.")),
		}, writing("Evaluate a context")), func(ctx context.Context, a mcp.Args) (string, error) {
		var req evaluator.Request
		var err error
		if req.ContextID, err = a.String("context_id"); err != nil {
			return "", err
		}
		if req.Answer, err = a.OptString("answer", ""); err != nil {
			return "", err
		}
		if a.Has("schema") {
			if _, ok := a["schema"].(map[string]any); !ok {
				return "", invalidf("argument %q must be an object", "schema")
			}
			if req.Schema, err = json.Marshal(a["schema"]); err != nil {
				return "", invalidf("argument %q: %v", "schema", err)
			}
		}
		if req.Session, err = a.OptString("session", ""); err != nil {
			return "", err
		}
		res, err := s.contextEvaluate(ctx, req)
		if err != nil {
			return "", err
		}
		return jsonText(res)
	})
	if opts.Generator != nil {
		srv.AddTool(tool("ask",
			"Answer a question from the store end to end: a context is built within the budget from the user's persona memory, the workspace, the history session and any other sources; the model answers from it (in one generation or by Parallel-Distill-Refine); the evaluator checks context and answer and records the evaluation; and the exchange is written back to history, persona memory and workspace unless write_back is false. Returns JSON {answer, manifest_id, evaluation, write_back, pdr, usage}.",
			[]mcpgo.ToolOption{
				mcpgo.WithString("question", mcpgo.Required(), mcpgo.Description("The question.")),
				mcpgo.WithString("user", mcpgo.Description("User whose persona memory informs (and learns from) the answer.")),
				mcpgo.WithString("workspace", mcpgo.Description("Episodic workspace to draw on and update.")),
				mcpgo.WithString("session", mcpgo.Description(`History session of the exchange (default "ask").`)),
				mcpgo.WithInteger("budget", mcpgo.Description("Context budget in the model's tokens."), mcpgo.DefaultNumber(DefaultAskBudget), mcpgo.Min(1), mcpgo.Max(MaxBudget)),
				mcpgo.WithArray("sources", mcpgo.Description("More context sources; each sets exactly one of glob, user, workspace, session, pin."), mcpgo.Items(map[string]any{"type": "object"})),
				mcpgo.WithObject("pdr", mcpgo.Description("Parallel-Distill-Refine: {m, r, kappa, distill (summary|extractive)}.")),
				mcpgo.WithInteger("max_tokens", mcpgo.Description("Tokens per generation (default 256)."), mcpgo.Min(1), mcpgo.Max(MaxAskTokens)),
				mcpgo.WithNumber("temperature", mcpgo.Description("Sampling temperature (0: greedy)."), mcpgo.Min(0), mcpgo.Max(5)),
				mcpgo.WithInteger("seed", mcpgo.Description("Sampling seed."), mcpgo.Min(0)),
				mcpgo.WithBoolean("write_back", mcpgo.Description("Write the exchange back to history, memory and workspace."), mcpgo.DefaultBool(true)),
			}, writing("Ask")), func(ctx context.Context, a mcp.Args) (string, error) {
			var req AskRequest
			if err := decodeArgs(a, &req); err != nil {
				return "", err
			}
			res, err := s.ask(ctx, req)
			if err != nil {
				return "", err
			}
			return jsonText(res)
		})
	}
	return nil
}

// decodeArgs decodes all of a tool's arguments strictly into v.
func decodeArgs(a mcp.Args, v any) error {
	b, err := json.Marshal(map[string]any(a))
	if err != nil {
		return invalidf("arguments: %v", err)
	}
	return decodeJSON(b, v)
}
