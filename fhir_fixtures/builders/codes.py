"""Code systems and codes of the synthetic records, each written once.

A code a value set under ``cards/valuesets/`` holds is written here exactly as that value set codes
it (system, code, and its display), and :data:`VALUE_SET_CODES` says which value set holds it;
``tests/test_fhir_builders.py`` checks both against the files, so a fixture can no longer code a
concept in a system the service does not know. A caller that wants another display (a chart
shows "CMAS", a lab system its own names) writes ``CMAS.shown_as("CMAS")``: the system and code
stay these. The routes are those of ``cards/history.json``; the rest are "noise", codes a JDM
service has no use for, as a real chart holds them.
"""

from __future__ import annotations

from typing import NamedTuple

# --- code systems ----------------------------------------------------------------------------

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
CVX = "http://hl7.org/fhir/sid/cvx"
UCUM = "http://unitsofmeasure.org"
# No LOINC code exists for CMAS or MMT-8 (cards/valuesets/cmas.json): this service's own system.
MUSCLE_SCORES = "https://jdm-cds.example.org/fhir/CodeSystem/muscle-strength-scores"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


class Code(NamedTuple):
    """One code: ``system, code, display = WEIGHT`` unpacks it; no display means none is sent."""

    system: str
    code: str
    display: str | None = None

    def shown_as(self, display: str | None) -> Code:
        """The same code with another display (``None``: a coding with no display at all)."""
        return self._replace(display=display)


# --- codes the value sets hold (cards/valuesets/<name>.json), with their displays --------------

WEIGHT = Code(LOINC, "29463-7", "Body weight")
HEIGHT = Code(LOINC, "8302-2", "Body height")
CK = Code(LOINC, "2157-6", "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma")
ALDOLASE = Code(LOINC, "1761-6", "Aldolase [Enzymatic activity/volume] in Serum or Plasma")
LDH = Code(LOINC, "2532-0", "Lactate dehydrogenase [Enzymatic activity/volume] in Serum or Plasma")
AST = Code(
    LOINC, "1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma"
)
ALT = Code(
    LOINC, "1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma"
)
ESR = Code(LOINC, "4537-7", "Erythrocyte sedimentation rate by Westergren method")
CRP = Code(LOINC, "1988-5", "C reactive protein [Mass/volume] in Serum or Plasma")
HEMOGLOBIN = Code(LOINC, "718-7", "Hemoglobin [Mass/volume] in Blood")
PLATELETS = Code(LOINC, "777-3", "Platelets [#/volume] in Blood by Automated count")
CREATININE = Code(LOINC, "2160-0", "Creatinine [Mass/volume] in Serum or Plasma")
IGA = Code(LOINC, "2458-8", "IgA [Mass/volume] in Serum or Plasma")
EGFR = Code(
    LOINC,
    "50384-7",
    "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood "
    "by Creatinine-based formula (Schwartz)",
)
ABO_GROUP = Code(LOINC, "883-9", "ABO group [Type] in Blood")
CMAS = Code(MUSCLE_SCORES, "cmas", "Childhood Myositis Assessment Scale total score")
MMT8 = Code(MUSCLE_SCORES, "mmt8", "Manual Muscle Testing 8 total score")

JDM = Code(ICD10_CM, "M33.02", "Juvenile dermatomyositis with myopathy")
JDM_UNSPECIFIED = Code(
    ICD10_CM, "M33.00", "Juvenile dermatomyositis, organ involvement unspecified"
)
DERMATOMYOSITIS = Code(ICD10_CM, "M33.12", "Other dermatomyositis with myopathy")
DERMATOMYOSITIS_SCT = Code(SNOMED, "396230008", "Dermatomyositis")
POLYMYOSITIS = Code(ICD10_CM, "M33.2", "Polymyositis")
POLYMYOSITIS_WITH_MYOPATHY = Code(ICD10_CM, "M33.22", "Polymyositis with myopathy")
PROXIMAL_WEAKNESS = Code(SNOMED, "249939004", "Proximal muscle weakness (finding)")
DYSPHAGIA = Code(SNOMED, "40739000", "Dysphagia (disorder)")
DYSPHAGIA_OROPHARYNGEAL = Code(ICD10_CM, "R13.12", "Dysphagia, oropharyngeal phase")
ASPIRATION_PNEUMONIA = Code(SNOMED, "422588002", "Aspiration pneumonia (disorder)")
IGA_DEFICIENCY = Code(SNOMED, "190979003", "Selective immunoglobulin A deficiency (disorder)")
IGA_DEFICIENCY_ICD = Code(ICD10_CM, "D80.2", "Selective deficiency of immunoglobulin A [IgA]")
CKD_STAGE_3 = Code(SNOMED, "433144002", "Chronic kidney disease stage 3 (disorder)")
CKD_STAGE_3_ICD = Code(ICD10_CM, "N18.30", "Chronic kidney disease, stage 3 unspecified")
DVT = Code(SNOMED, "128053003", "Deep venous thrombosis (disorder)")
DVT_HISTORY = Code(ICD10_CM, "Z86.718", "Personal history of other venous thrombosis and embolism")
HEART_FAILURE = Code(SNOMED, "84114007", "Heart failure (disorder)")
HEART_FAILURE_ICD = Code(ICD10_CM, "I50.9", "Heart failure, unspecified")
MIGRAINE = Code(SNOMED, "37796009", "Migraine (disorder)")
ILD = Code(SNOMED, "233703007", "Interstitial lung disease (disorder)")
ILD_ICD = Code(ICD10_CM, "J84.9", "Interstitial pulmonary disease, unspecified")
MYOCARDITIS = Code(ICD10_CM, "I51.4", "Myocarditis, unspecified")
GI_VASCULOPATHY_ICD = Code(ICD10_CM, "K55.9", "Vascular disorder of intestine, unspecified")
PREGNANCY = Code(SNOMED, "77386006", "Pregnancy (finding)")
PREGNANCY_TEST_URINE = Code(
    LOINC, "2106-3", "Choriogonadotropin (pregnancy test) [Presence] in Urine"
)
ANTI_IGA = Code(LOINC, "13312-4", "Anti-IgA antibody (IgG, ELISA) in Serum")
POSITIVE = Code(SNOMED, "10828004", "Positive")
NEGATIVE = Code(SNOMED, "260385009", "Negative")
SEVERE = Code(SNOMED, "24484000", "Severe")
MODERATE = Code(SNOMED, "6736007", "Moderate")

METHYLPREDNISOLONE = Code(RXNORM, "6902", "methylprednisolone")
METHOTREXATE = Code(RXNORM, "6851", "methotrexate")
PREDNISOLONE = Code(RXNORM, "8638", "prednisolone")
IMMUNE_GLOBULIN = Code(RXNORM, "5665", "immunoglobulin G")

ECG = Code(SNOMED, "29303009", "Electrocardiographic procedure")
ECHOCARDIOGRAM = Code(SNOMED, "40701008", "Echocardiography")
PFT = Code(SNOMED, "23426006", "Measurement of respiratory function (procedure)")
VFSS = Code(
    LOINC,
    "86395-1",
    "RF videography Hypopharynx and Esophagus Views for swallowing function W speech and W "
    "barium contrast PO",
)
MRI_THIGH = Code(LOINC, "24702-3", "MR Thigh")

MMR_VACCINE = Code(CVX, "03", "measles, mumps and rubella virus vaccine")

# value set (cards/valuesets/<name>.json) -> the codes above that it holds
VALUE_SET_CODES: dict[str, tuple[Code, ...]] = {
    "weight": (WEIGHT,),
    "height": (HEIGHT,),
    "ck": (CK,),
    "aldolase": (ALDOLASE,),
    "ldh": (LDH,),
    "ast": (AST,),
    "alt": (ALT,),
    "esr": (ESR,),
    "crp": (CRP,),
    "hemoglobin": (HEMOGLOBIN,),
    "platelets": (PLATELETS,),
    "creatinine": (CREATININE,),
    "iga": (IGA,),
    "egfr": (EGFR,),
    "blood-group": (ABO_GROUP,),
    "cmas": (CMAS,),
    "mmt8": (MMT8,),
    "jdm": (JDM, JDM_UNSPECIFIED),
    "dermatomyositis": (DERMATOMYOSITIS, DERMATOMYOSITIS_SCT),
    "polymyositis": (POLYMYOSITIS, POLYMYOSITIS_WITH_MYOPATHY),
    "muscle-weakness": (PROXIMAL_WEAKNESS,),
    "dysphagia": (DYSPHAGIA, DYSPHAGIA_OROPHARYNGEAL),
    "aspiration": (ASPIRATION_PNEUMONIA,),
    "iga-deficiency": (IGA_DEFICIENCY, IGA_DEFICIENCY_ICD),
    "renal-impairment": (CKD_STAGE_3, CKD_STAGE_3_ICD),
    "thrombosis": (DVT, DVT_HISTORY),
    "heart-failure": (HEART_FAILURE, HEART_FAILURE_ICD),
    "migraine": (MIGRAINE,),
    "ild": (ILD, ILD_ICD),
    "myocarditis": (MYOCARDITIS,),
    "methylprednisolone-iv": (METHYLPREDNISOLONE,),
    "methotrexate": (METHOTREXATE,),
    "glucocorticoid-oral": (PREDNISOLONE,),
    "ivig": (IMMUNE_GLOBULIN,),
    "immune-globulin": (IMMUNE_GLOBULIN,),
    "ecg": (ECG,),
    "echocardiogram": (ECHOCARDIOGRAM,),
    "pft": (PFT,),
    "vfss": (VFSS,),
    "mri-thigh": (MRI_THIGH,),
    "live-vaccine": (MMR_VACCINE,),
}

# --- routes (cards/history.json "routes") -------------------------------------------------------

ROUTE_IV = Code(SNOMED, "47625008", "Intravenous route")
ROUTE_SC = Code(SNOMED, "34206005", "Subcutaneous route")
ROUTE_ORAL = Code(SNOMED, "26643006", "Oral route")
ROUTE_OPHTHALMIC = Code(SNOMED, "54485002", "Ophthalmic route")  # no route of cards/history.json

# cards/history.json route name -> the code above that it lists
HISTORY_ROUTES: dict[str, Code] = {
    "intravenous": ROUTE_IV,
    "subcutaneous": ROUTE_SC,
    "oral": ROUTE_ORAL,
}

# --- noise: codes no value set holds ------------------------------------------------------------

HEART_RATE = Code(LOINC, "8867-4", "Heart rate")
RESPIRATORY_RATE = Code(LOINC, "9279-1", "Respiratory rate")
BODY_TEMPERATURE = Code(LOINC, "8310-5", "Body temperature")
OXYGEN_SATURATION = Code(LOINC, "59408-5", "Oxygen saturation by pulse oximetry")
SYSTOLIC_BP = Code(LOINC, "8480-6", "Systolic blood pressure")
DIASTOLIC_BP = Code(LOINC, "8462-4", "Diastolic blood pressure")
SODIUM = Code(LOINC, "2951-2", "Sodium [Moles/volume] in Serum or Plasma")
POTASSIUM = Code(LOINC, "2823-3", "Potassium [Moles/volume] in Serum or Plasma")
GLUCOSE = Code(LOINC, "2345-7", "Glucose [Mass/volume] in Serum or Plasma")
LEUKOCYTES = Code(LOINC, "6690-2", "Leukocytes [#/volume] in Blood by Automated count")
CHLORIDE = Code(LOINC, "2075-0", "Chloride [Moles/volume] in Serum or Plasma")
UREA_NITROGEN = Code(LOINC, "3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma")
ALBUMIN = Code(LOINC, "1751-7", "Albumin [Mass/volume] in Serum or Plasma")

ACETAMINOPHEN = Code(RXNORM, "161", "acetaminophen")
OMEPRAZOLE = Code(RXNORM, "7646", "omeprazole")
IBUPROFEN = Code(RXNORM, "5640", "ibuprofen")
FOLIC_ACID = Code(RXNORM, "4511", "folic acid")
PENICILLIN_G = Code(RXNORM, "7980", "penicillin G")
ALBUTEROL = Code(RXNORM, "435", "albuterol")
CHOLECALCIFEROL = Code(RXNORM, "2418", "cholecalciferol")

ASTHMA = Code(ICD10_CM, "J45.909", "Unspecified asthma, uncomplicated")
UPPER_RESPIRATORY_INFECTION = Code(ICD10_CM, "J06.9", "Acute upper respiratory infection")
DERMATITIS = Code(ICD10_CM, "L30.9", "Dermatitis, unspecified")
ATOPIC_DERMATITIS = Code(ICD10_CM, "L20.9", "Atopic dermatitis, unspecified")
# a code once listed as dysphonia by mistake (fhir_fixtures/scenarios/specs_more.py)
IRRITABILITY = Code(SNOMED, "55929007", "Feeling irritable (finding)")

INFLUENZA_INACTIVATED = Code(CVX, "150", "influenza, injectable, quadrivalent, preservative free")
INFLUENZA_SEASONAL = Code(CVX, "141", "Influenza, seasonal, injectable")
DTAP = Code(CVX, "20", "DTaP")

# every code system, code and table above (``from fhir_fixtures.builders import *`` names them)
__all__ = ["Code"] + [
    name
    for name, value in list(globals().items())
    if name.isupper() and isinstance(value, str | Code | dict)
]
