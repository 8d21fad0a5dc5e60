"""The Fountain parser on the cases of the Fountain syntax guide (fountain.io/syntax)."""
from backend.scenes.fountain import parse, plain


def kinds(text):
    return [(e.kind, e.text) for e in parse(text).elements]


def test_scene_headings_plain_forced_and_numbered():
    doc = parse("EXT. BRICK'S PATIO - DAY\n\nA gorgeous day.\n\n.SNIPER SCOPE POV\n\n...and then\n\n"
                "INT. HOUSE - DAY #1A#\n\nint/ext. car - night\n\nEST. CITY\n")
    els = [(e.kind, e.text, e.line_no) for e in doc.elements]
    assert els == [
        ("scene_heading", "EXT. BRICK'S PATIO - DAY", 1),
        ("action", "A gorgeous day.", 3),
        ("scene_heading", "SNIPER SCOPE POV", 5),
        ("action", "...and then", 7),           # two dots: not forced
        ("scene_heading", "INT. HOUSE - DAY", 9),
        ("scene_heading", "int/ext. car - night", 11),
        ("scene_heading", "EST. CITY", 13),
    ]
    assert doc.elements[2].forced and doc.elements[4].scene_number == "1A"


def test_action_and_forced_action():
    els = parse("!SCANNING THE AISLES...\nWhere is that pit boss?\n\nNo, I'm not.\n").elements
    assert (els[0].kind, els[0].forced) == ("action", True)
    assert els[0].text == "SCANNING THE AISLES...\nWhere is that pit boss?"
    assert kinds("\n\nThe room.\n")[0] == ("action", "The room.")


def test_character_cues_with_extensions_forced_and_numbers():
    els = parse("STEEL\nThe man's a myth!\n\nHANS (on the radio)\nWhat was it you said?\n\n"
                "@McCLANE\nYippie ki-yay! I got my lower-case C back!\n\nR2D2\nBeep.\n\n"
                "MOM (V.O.)\nDinner.\n\nSTEEL (CONT'D)\nAnd another thing.\n").elements
    cues = [(e.text, e.extension, e.forced) for e in els if e.kind == "character"]
    assert cues == [("STEEL", None, False), ("HANS", "on the radio", False), ("McCLANE", None, True),
                    ("R2D2", None, False), ("MOM", "V.O.", False), ("STEEL", "CONT'D", False)]
    assert [e.text for e in els if e.kind == "dialogue"][2] == "Yippie ki-yay! I got my lower-case C back!"


def test_not_a_cue_without_letters_or_without_dialogue_or_in_mixed_case():
    assert kinds("23\nNumbers only.\n")[0][0] == "action"
    assert kinds("McCLANE\nNo at sign.\n")[0][0] == "action"
    assert kinds("THE DOOR OPENS.\n")[0][0] == "action"        # capitals with nothing under it


def test_dual_dialogue():
    els = parse("BRICK\nScrew retirement.\n\nSTEEL ^\nScrew retirement.\n").elements
    cues = [e for e in els if e.kind == "character"]
    assert [(c.text, c.dual) for c in cues] == [("BRICK", False), ("STEEL", True)]


def test_parentheticals_and_multi_line_dialogue():
    els = parse("STEEL\n(starting the engine)\nSo much for retirement!\nIt was fun.\n(beat)\nBye.\n").elements
    assert [(e.kind, e.text) for e in els] == [
        ("character", "STEEL"), ("parenthetical", "(starting the engine)"),
        ("dialogue", "So much for retirement!\nIt was fun."), ("parenthetical", "(beat)"), ("dialogue", "Bye.")]


def test_two_spaces_keep_dialogue_going():
    els = parse("DEALER\nTen.\nFour.\n  \nDealer gets a seven.\n").elements
    assert [e.kind for e in els] == ["character", "dialogue"]


def test_lyrics():
    assert kinds("~Willy Wonka! Willy Wonka! The amazing chocolatier!\n~Willy Wonka! Willy Wonka!\n") == [
        ("lyrics", "Willy Wonka! Willy Wonka! The amazing chocolatier!\nWilly Wonka! Willy Wonka!")]


def test_transitions_plain_and_forced_and_centered():
    assert kinds("Jack begins to cry.\n\nCUT TO:\n\nINT. BAR - NIGHT\n\n> Burn to White.\n\n>THE END<\n\n"
                 "> THE END <\n") == [
        ("action", "Jack begins to cry."), ("transition", "CUT TO:"), ("scene_heading", "INT. BAR - NIGHT"),
        ("transition", "Burn to White."), ("centered", "THE END"), ("centered", "THE END")]


def test_emphasis_is_left_as_text_and_plain_removes_it():
    text = "Steel enters the code on the keypad: **\\*9765\\***\n"
    assert kinds(text)[0] == ("action", "Steel enters the code on the keypad: **\\*9765\\***")
    assert plain("*italics* **bold** ***both*** _under_") == "italics bold both under"
    assert plain("**\\*9765\\***") == "*9765*"
    assert plain("file_name_here and _this_") == "file_name_here and this"


def test_title_page():
    doc = parse("Title:\n\t_**BRICK & STEEL**_\n\t_**FULL RETIRED**_\nCredit: Written by\nAuthor: Stu Maschwitz\n"
                "Source: Story by KTM\nDraft date: 1/20/2012\nContact:\n\tNext Level Productions\n"
                "\t1588 Mission Dr.\n\tSolvang, CA 93463\n\nEXT. BRICK'S PATIO - DAY\n")
    tp = doc.title_page
    assert tp["Title"] == "_**BRICK & STEEL**_\n_**FULL RETIRED**_"
    assert tp["Author"] == "Stu Maschwitz" and tp["Draft date"] == "1/20/2012"
    assert tp["Contact"].splitlines()[-1] == "Solvang, CA 93463"
    assert doc.elements[-1].kind == "scene_heading"


def test_page_breaks_sections_synopses():
    assert kinds("# ACT I\n\n= Set up the characters and the story.\n\n## Sequence\n\n===\n\nEXT. X - DAY\n") == [
        ("section", "ACT I"), ("synopsis", "Set up the characters and the story."), ("section", "Sequence"),
        ("page_break", ""), ("scene_heading", "EXT. X - DAY")]
    assert [e.level for e in parse("# A\n\n### C\n").elements] == [1, 3]


def test_notes_inline_multi_line_and_own_paragraph_keep_their_lines():
    doc = parse("INT. TRAILER HOME - DAY\n\nThis is the home of THE BOY BAND, AKA DAN and JACK[[Or did we think "
                "of actual names for these guys?]]. They too are drinking beer.\n\n"
                "His hand is an inch from the receiver when the phone RINGS.[[This section needs work.\n"
                "Either that, or I need coffee.\n  \nDefinitely coffee.]] He looks around.\n\n[[A note alone.]]\n")
    action1, action2, note = doc.elements[1], doc.elements[2], doc.elements[3]
    assert action1.text == "This is the home of THE BOY BAND, AKA DAN and JACK. They too are drinking beer."
    assert [(n.line_no, n.text) for n in action1.notes] == [(3, "Or did we think of actual names for these guys?")]
    assert " ".join(action2.text.split()) == "His hand is an inch from the receiver when the phone RINGS. He looks around."
    assert [(n.line_no, n.text) for n in action2.notes] == [
        (5, "This section needs work. Either that, or I need coffee. Definitely coffee.")]
    assert (note.kind, note.text, note.line_no) == ("note", "A note alone.", 10)
    assert not doc.problems


def test_boneyard_is_ignored_and_lines_still_count():
    doc = parse("COGNITO\nEveryone's coming after you mate!\n\n/*\nINT. GARAGE - DAY\n\nBRICK and STEEL get in.\n*/\n\n"
                "He leaves. /* not this */ Fast.\n")
    assert [(e.kind, e.text, e.line_no) for e in doc.elements] == [
        ("character", "COGNITO", 1), ("dialogue", "Everyone's coming after you mate!", 2),
        ("action", "He leaves.  Fast.", 10)]


def test_unclosed_note_and_boneyard_are_reported_with_their_lines():
    doc = parse("A room. [[push in\n\nMore.\n\n/* forever\n")
    assert [(p.line_no, p.message.split(" ")[1]) for p in doc.problems] == [(5, "boneyard"), (1, "note")]
