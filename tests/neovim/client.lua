-- A real third-party LSP client: Neovim (0.7 API), headless. Opens one file, waits for the
-- HandlerLens server's diagnostics and code lenses, asks for one completion, writes what it
-- saw as JSON, quits.
-- Usage: nvim --headless --clean -u NONE -l? (0.7 has no -l) so: nvim --headless -u NONE
--   -c "luafile client.lua" with HL_ROOT, HL_FILE, HL_OUT, HL_PYTHON in the environment.
local root = os.getenv("HL_ROOT")
local file = os.getenv("HL_FILE")
local out = os.getenv("HL_OUT")
local python = os.getenv("HL_PYTHON")

local result = { diagnostics = {}, lenses = {}, errors = {} }

local function finish()
  local f = io.open(out, "w")
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd("qall!")
end

vim.cmd("edit " .. file)
local bufnr = vim.api.nvim_get_current_buf()

local client_id = vim.lsp.start_client({
  name = "handlerlens",
  cmd = { python, "-m", "handlerlens", "lsp" },
  root_dir = root,
  workspace_folders = { { uri = vim.uri_from_fname(root), name = "ws" } },
  on_error = function(code, err)
    table.insert(result.errors, tostring(code) .. ": " .. tostring(err))
  end,
})
vim.lsp.buf_attach_client(bufnr, client_id)

local function have_diagnostics()
  return #vim.diagnostic.get(bufnr) > 0
end

vim.wait(15000, have_diagnostics, 50)
for _, d in ipairs(vim.diagnostic.get(bufnr)) do
  table.insert(result.diagnostics, {
    line = d.lnum, col = d.col, code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code),
    source = d.source, message = d.message, severity = d.severity,
  })
end

local client = vim.lsp.get_client_by_id(client_id)
local params = { textDocument = vim.lsp.util.make_text_document_params(bufnr) }
local response = client.request_sync("textDocument/codeLens", params, 10000, bufnr)
if response and response.result then
  for _, lens in ipairs(response.result) do
    table.insert(result.lenses, {
      line = lens.range.start.line,
      title = lens.command and lens.command.title,
      command = lens.command and lens.command.command,
    })
  end
elseif response and response.err then
  table.insert(result.errors, vim.inspect(response.err))
end

-- One completion, typed as a user would: a new line in create_order (API Gateway REST),
-- `    x = event["`, then textDocument/completion at its end.
local typed = '    x = event["'
vim.api.nvim_buf_set_lines(bufnr, 9, 9, false, { typed })
local position = { line = 9, character = #typed }
local completion = client.request_sync("textDocument/completion", {
  textDocument = { uri = vim.uri_from_bufnr(bufnr) },
  position = position,
  context = { triggerKind = 2, triggerCharacter = '"' },
}, 10000, bufnr)
result.completion = {}
if completion and completion.result then
  local items = completion.result.items or completion.result
  for _, item in ipairs(items) do
    table.insert(result.completion, {
      label = item.label,
      newText = item.textEdit and item.textEdit.newText,
      line = item.textEdit and item.textEdit.range.start.line,
    })
  end
elseif completion and completion.err then
  table.insert(result.errors, vim.inspect(completion.err))
end
client.stop()
finish()
