from provista.cli import app

app(prog_name="provista")
