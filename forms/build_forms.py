#!/usr/bin/env python3
"""Builds Vigie's two XLSForms, so that they can be reviewed as text and rebuilt byte for byte.

    VIGIE_VENV=/tmp/vigie-venv scripts/pyxform.sh ...   # creates the venv (pyxform + openpyxl)
    /tmp/vigie-venv/bin/python forms/build_forms.py      # writes forms/*.xlsx
    scripts/pyxform.sh forms/incident_fr.xlsx forms/incident_fr.xml
    scripts/pyxform.sh forms/perception_fr.xlsx forms/perception_fr.xml

The incident categories must stay those of `early_warning::taxonomy::default_categories` (the
domain tests check it), and the commune choices are area codes from data/demo/areas.csv, so that a
submission maps onto a report without a lookup table. Field names are what
`crates/domain/src/openrosa/mapping.rs` reads: rename one here, rename it there.
"""

import datetime
import io
import os
import re
import sys
import zipfile

from openpyxl import Workbook

HERE = os.path.dirname(os.path.abspath(__file__))
FR = "label::Français (fr)"
EN = "label::English (en)"
HINT_FR = "hint::Français (fr)"
HINT_EN = "hint::English (en)"
SURVEY_COLUMNS = ["type", "name", FR, EN, HINT_FR, HINT_EN, "required", "relevant", "constraint",
                  "constraint_message::Français (fr)", "constraint_message::English (en)", "appearance", "parameters"]
CHOICE_COLUMNS = ["list_name", "name", FR, EN]

# (code, French label, English label): early_warning::taxonomy::default_categories, same order.
CATEGORIES = [
    ("armed_attack", "Attaque armée", "Armed attack"),
    ("intercommunal_conflict", "Conflit intercommunautaire ou foncier", "Intercommunal or land conflict"),
    ("threat_intimidation", "Menace ou intimidation", "Threat or intimidation"),
    ("gender_based_violence", "Violence basée sur le genre", "Gender-based violence"),
    ("abduction", "Enlèvement", "Abduction"),
    ("explosive_device", "Engin explosif", "Explosive device"),
    ("small_arms", "Circulation ou collecte d'armes légères", "Small arms circulation or collection"),
    ("displacement", "Déplacement de population", "Population displacement"),
    ("natural_hazard_flood", "Inondation", "Flood"),
    ("natural_hazard_drought", "Sécheresse", "Drought"),
    ("natural_hazard_fire", "Incendie", "Fire"),
    ("rumour_hate_speech", "Rumeur ou discours de haine", "Rumour or hate speech"),
    ("security_forces_abuse", "Abus des forces de sécurité", "Abuse by security forces"),
    ("other", "Autre", "Other"),
]

# The communes of data/demo/areas.csv; "autre" lets a person name a place instead.
COMMUNES = [
    ("ML-BKO-C1", "Bamako, Commune I", "Bamako, Commune I"),
    ("ML-BKO-C2", "Bamako, Commune II", "Bamako, Commune II"),
    ("ML-BKO-C3", "Bamako, Commune III", "Bamako, Commune III"),
    ("ML-BKO-C4", "Bamako, Commune IV", "Bamako, Commune IV"),
    ("ML-BKO-C5", "Bamako, Commune V", "Bamako, Commune V"),
    ("ML-BKO-C6", "Bamako, Commune VI", "Bamako, Commune VI"),
    ("ML-5-MOPTI-MOPTI", "Mopti", "Mopti"),
    ("ML-4-SEGOU-SEGOU", "Ségou", "Ségou"),
    ("ML-7-GAO-GAO", "Gao", "Gao"),
    ("autre", "Autre commune (préciser le lieu)", "Another commune (name the place)"),
]


def row(type_, name, fr="", en="", **kw):
    r = {"type": type_, "name": name, FR: fr, EN: en}
    r.update(kw)
    return r


def choices(list_name, items):
    return [{"list_name": list_name, "name": n, FR: fr, EN: en} for n, fr, en in items]


def save(path, survey, choice_rows, settings):
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(SURVEY_COLUMNS)
    for r in survey:
        unknown = set(r) - set(SURVEY_COLUMNS)
        if unknown:
            sys.exit(f"unknown survey column(s) {unknown}")
        ws.append([r.get(c, "") for c in SURVEY_COLUMNS])
    wc = wb.create_sheet("choices")
    wc.append(CHOICE_COLUMNS)
    for r in choice_rows:
        wc.append([r.get(c, "") for c in CHOICE_COLUMNS])
    wsettings = wb.create_sheet("settings")
    wsettings.append(list(settings))
    wsettings.append(list(settings.values()))
    # A fixed timestamp: the same script makes the same bytes.
    fixed = datetime.datetime(2026, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "Vigie forms/build_forms.py"
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl stamps the zip entries and the "modified" property with the current time.
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", data)
            fixed_info = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed_info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed_info, data)


def incident():
    survey = [
        row("start", "debut"),
        row("end", "fin"),
        row("select_one categorie", "categorie", "Que s'est-il passé ?", "What happened?",
            required="yes"),
        row("text", "description", "Décrivez les faits (qui, quoi, combien de personnes touchées)",
            "Describe what happened (who, what, how many people affected)",
            required="yes", appearance="multiline"),
        row("dateTime", "date_evenement", "Date et heure des faits", "Date and time of the event",
            required="yes", constraint=". <= now()",
            **{"constraint_message::Français (fr)": "La date ne peut pas être dans le futur.",
               "constraint_message::English (en)": "The date cannot be in the future."}),
        row("begin_group", "lieu", "Lieu", "Location"),
        row("select_one commune", "commune", "Commune", "Commune", required="yes"),
        row("text", "lieu_dit", "Village, quartier ou lieu-dit", "Village, neighbourhood or place",
            required="${commune} = 'autre'"),
        row("geopoint", "position", "Position GPS (facultative)", "GPS position (optional)",
            **{HINT_FR: "Seulement si cela ne vous met pas en danger.",
               HINT_EN: "Only if it does not put you at risk."}),
        row("end_group", "lieu"),
        # Small photos: focal points send over 2G/3G.
        row("image", "photo", "Photo (facultative)", "Photo (optional)", parameters="max-pixels=1024"),
        row("audio", "message_vocal", "Message vocal (facultatif)", "Voice message (optional)"),
        row("select_one rapporteur", "type_rapporteur", "Vous êtes", "You are", required="yes"),
    ]
    choice_rows = (
        choices("categorie", CATEGORIES)
        + choices("commune", COMMUNES)
        + choices("rapporteur", [
            ("focal_point", "Point focal communautaire", "Community focal point"),
            ("committee", "Membre d'un comité local de sécurité", "Member of a local security committee"),
            ("anonymous", "Je préfère ne pas le dire", "I prefer not to say"),
        ])
    )
    settings = {
        "form_title": "Vigie – Signalement d'incident",
        "form_id": "vigie_incident",
        "version": "2026052101",
        "default_language": "Français (fr)",
        "instance_name": "concat(${categorie}, ' – ', ${date_evenement})",
    }
    save(os.path.join(HERE, "incident_fr.xlsx"), survey, choice_rows, settings)


def perception():
    likert = "select_one confiance"
    survey = [
        row("start", "debut"),
        row("end", "fin"),
        row("today", "date_entretien"),
        row("select_one sexe", "sexe", "Sexe de la personne interrogée", "Respondent's sex", required="yes"),
        row("select_one tranche_age", "tranche_age", "Tranche d'âge", "Age group", required="yes"),
        row("select_one commune", "commune", "Commune de résidence", "Commune of residence", required="yes"),
        row("begin_group", "confiance", "Confiance dans les services", "Trust in services"),
        row(likert, "confiance_police", "Faites-vous confiance à la police ?", "Do you trust the police?",
            required="yes"),
        row(likert, "confiance_gendarmerie", "Faites-vous confiance à la gendarmerie ?",
            "Do you trust the gendarmerie?", required="yes"),
        row(likert, "confiance_justice", "Faites-vous confiance à la justice ?", "Do you trust the courts?",
            required="yes"),
        row("end_group", "confiance"),
        row("select_one securite", "sentiment_securite",
            "Dans votre quartier ou village, vous sentez-vous en sécurité ?",
            "Do you feel safe in your neighbourhood or village?", required="yes"),
        row("select_one oui_non", "incident_signale",
            "Au cours des 12 derniers mois, avez-vous signalé un incident aux autorités ?",
            "In the last 12 months, have you reported an incident to the authorities?", required="yes"),
        row("select_multiple preoccupation", "preoccupations",
            "Quelles sont vos principales préoccupations de sécurité ?",
            "What are your main security concerns?", required="yes",
            constraint="not(selected(., 'aucune') and count-selected(.) > 1)"),
        row("decimal", "distance_poste_km",
            "À combien de kilomètres se trouve le poste de police ou de gendarmerie le plus proche ?",
            "How many kilometres away is the nearest police or gendarmerie post?",
            constraint=". >= 0 and . <= 500"),
        row("integer", "nb_membres", "Combien de personnes vivent dans votre ménage ?",
            "How many people live in your household?", constraint=". >= 1 and . <= 60"),
        row("begin_repeat", "membres", "Membre du ménage", "Household member"),
        row("select_one sexe", "sexe_membre", "Sexe", "Sex"),
        row("select_one tranche_age_menage", "age_membre", "Tranche d'âge", "Age group"),
        row("end_repeat", "membres"),
        row("text", "commentaire", "Autre chose à ajouter ?", "Anything else to add?"),
    ]
    choice_rows = (
        choices("sexe", [("femme", "Femme", "Woman"), ("homme", "Homme", "Man")])
        + choices("tranche_age", [
            ("18_24", "18 à 24 ans", "18 to 24"),
            ("25_34", "25 à 34 ans", "25 to 34"),
            ("35_49", "35 à 49 ans", "35 to 49"),
            ("50_plus", "50 ans et plus", "50 and over"),
        ])
        + choices("tranche_age_menage", [
            ("0_14", "Moins de 15 ans", "Under 15"),
            ("15_24", "15 à 24 ans", "15 to 24"),
            ("25_49", "25 à 49 ans", "25 to 49"),
            ("50_plus", "50 ans et plus", "50 and over"),
        ])
        + choices("commune", COMMUNES[:-1])
        + choices("confiance", [
            ("pas_du_tout", "Pas du tout", "Not at all"),
            ("peu", "Un peu", "A little"),
            ("assez", "Assez", "Somewhat"),
            ("tout_a_fait", "Tout à fait", "Completely"),
            ("nsp", "Ne sait pas", "Don't know"),
        ])
        + choices("securite", [
            ("tres_en_securite", "Très en sécurité", "Very safe"),
            ("plutot_en_securite", "Plutôt en sécurité", "Fairly safe"),
            ("plutot_en_insecurite", "Plutôt en insécurité", "Fairly unsafe"),
            ("tres_en_insecurite", "Très en insécurité", "Very unsafe"),
        ])
        + choices("oui_non", [("oui", "Oui", "Yes"), ("non", "Non", "No")])
        + choices("preoccupation", [
            ("banditisme", "Banditisme, vols", "Banditry, theft"),
            ("attaques_armees", "Attaques armées", "Armed attacks"),
            ("conflits_fonciers", "Conflits fonciers ou intercommunautaires", "Land or intercommunal conflicts"),
            ("vol_betail", "Vol de bétail", "Cattle theft"),
            ("engins_explosifs", "Engins explosifs", "Explosive devices"),
            ("enlevements", "Enlèvements", "Abductions"),
            ("vbg", "Violences basées sur le genre", "Gender-based violence"),
            ("abus_fds", "Abus des forces de défense et de sécurité", "Abuse by defence and security forces"),
            ("aucune", "Aucune", "None"),
        ])
    )
    settings = {
        "form_title": "Vigie – Enquête de perception sur la sécurité",
        "form_id": "vigie_perception",
        "version": "2026052101",
        "default_language": "Français (fr)",
    }
    save(os.path.join(HERE, "perception_fr.xlsx"), survey, choice_rows, settings)


if __name__ == "__main__":
    incident()
    perception()
